//! The file-backed journal: append-only JSON lines, fsynced, compacted.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use cloudrec_types::Sid;
use serde::{Deserialize, Serialize};

use super::{Journal, JournalError};
use crate::TaskRef;

/// One line of the journal file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Line {
    /// A task became live.
    Live {
        #[serde(flatten)]
        task: TaskRef,
    },
    /// A task was stopped.
    Done { sid: Sid },
}

#[derive(Debug)]
struct State {
    file: File,
    live: Vec<TaskRef>,
    lines: usize,
}

/// A [`Journal`] in a file of JSON lines (`{"op":"live",...}` and
/// `{"op":"done","sid":...}`), each appended and fsynced before the call
/// returns. When dead lines outnumber live tasks, the file is rewritten with
/// the live tasks only (written to a temporary file, fsynced, then renamed). A
/// torn last line, left by a crash mid-write, is ignored on open.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    state: Mutex<State>,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> JournalError + 'a {
    move |source| JournalError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

/// Makes the directory entry of `path` durable (a new file, a rename); best
/// effort, as not every platform can sync a directory.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

impl FileJournal {
    /// Opens (or creates) the journal at `path` and reads the live tasks in it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let path = path.into();
        let mut live: Vec<TaskRef> = Vec::new();
        let mut lines = 0;
        if path.exists() {
            let file = File::open(&path).map_err(io("open", &path))?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(io("read", &path))?;
                lines += 1;
                match serde_json::from_str::<Line>(&line) {
                    Ok(Line::Live { task }) => {
                        if !live.iter().any(|t| t.sid == task.sid) {
                            live.push(task);
                        }
                    }
                    Ok(Line::Done { sid }) => live.retain(|t| t.sid != sid),
                    Err(_) => {}
                }
            }
        }
        let created = !path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io("open", &path))?;
        if created {
            sync_dir(&path);
        }
        let journal = Self {
            path,
            state: Mutex::new(State { file, live, lines }),
        };
        journal.compact_if_needed(&mut journal.lock())?;
        Ok(journal)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, state: &mut State, line: &Line) -> Result<(), JournalError> {
        let mut text = serde_json::to_string(line).unwrap_or_default();
        text.push('\n');
        state
            .file
            .write_all(text.as_bytes())
            .map_err(io("append", &self.path))?;
        state.file.sync_data().map_err(io("sync", &self.path))?;
        state.lines += 1;
        Ok(())
    }

    fn compact_if_needed(&self, state: &mut State) -> Result<(), JournalError> {
        if state.lines <= 2 * state.live.len() + 64 {
            return Ok(());
        }
        let tmp = self.path.with_extension("compact");
        {
            let mut out = File::create(&tmp).map_err(io("compact", &tmp))?;
            for task in &state.live {
                let mut text =
                    serde_json::to_string(&Line::Live { task: task.clone() }).unwrap_or_default();
                text.push('\n');
                out.write_all(text.as_bytes())
                    .map_err(io("compact", &tmp))?;
            }
            out.sync_all().map_err(io("compact", &tmp))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io("compact", &self.path))?;
        sync_dir(&self.path);
        state.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io("open", &self.path))?;
        state.lines = state.live.len();
        Ok(())
    }
}

impl Journal for FileJournal {
    fn add(&self, task: &TaskRef) -> Result<(), JournalError> {
        let mut state = self.lock();
        if state.live.iter().any(|t| t.sid == task.sid) {
            return Ok(());
        }
        self.append(&mut state, &Line::Live { task: task.clone() })?;
        state.live.push(task.clone());
        Ok(())
    }

    fn remove(&self, sid: &Sid) -> Result<(), JournalError> {
        let mut state = self.lock();
        if !state.live.iter().any(|t| &t.sid == sid) {
            return Ok(());
        }
        self.append(&mut state, &Line::Done { sid: sid.clone() })?;
        state.live.retain(|t| &t.sid != sid);
        self.compact_if_needed(&mut state)
    }

    fn live(&self) -> Result<Vec<TaskRef>, JournalError> {
        Ok(self.lock().live.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use cloudrec_types::{Cname, Mode, ResourceId, Uid};

    use super::*;

    fn task(n: u32) -> TaskRef {
        TaskRef {
            resource_id: ResourceId::new(format!("rid{n}")).unwrap(),
            sid: Sid::new(format!("sid{n}")).unwrap(),
            mode: Mode::Mix,
            cname: Cname::new("room").unwrap(),
            uid: Uid::new(n + 1).unwrap(),
        }
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cloudrec-journal-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("live.jsonl");
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn live_tasks_survive_a_reopen_and_a_torn_last_line() {
        let path = temp_path("reopen");
        let journal = FileJournal::open(&path).unwrap();
        journal.add(&task(1)).unwrap();
        journal.add(&task(2)).unwrap();
        journal.remove(&task(1).sid).unwrap();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"op\":\"live\",\"resourceId\":\"x")
            .unwrap();
        drop(file);
        let journal = FileJournal::open(&path).unwrap();
        assert_eq!(journal.live().unwrap(), vec![task(2)]);
    }

    #[test]
    fn the_file_is_compacted_to_the_live_tasks() {
        let path = temp_path("compact");
        let journal = FileJournal::open(&path).unwrap();
        for n in 0..200 {
            journal.add(&task(n)).unwrap();
            if n % 10 != 0 {
                journal.remove(&task(n).sid).unwrap();
            }
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines < 200, "{lines} lines");
        let live = journal.live().unwrap();
        assert_eq!(live.len(), 20);
        drop(journal);
        assert_eq!(FileJournal::open(&path).unwrap().live().unwrap(), live);
    }

    #[test]
    fn the_journal_holds_ids_and_no_secret() {
        let path = temp_path("ids");
        let journal = FileJournal::open(&path).unwrap();
        journal.add(&task(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["cname", "mode", "op", "resourceId", "sid", "uid"]);
    }
}

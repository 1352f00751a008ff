//! The file-backed journal: append-only JSON lines, fsynced, compacted, locked.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::lock::{self, JournalLock};
use super::{Entry, Journal, JournalError, Ledger};

/// The torn last line found (and cut off) when the journal was opened: what a
/// crash in the middle of a write leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The line, counted from 1.
    pub line: usize,
    /// How many bytes it had.
    pub bytes: usize,
}

#[derive(Debug)]
struct State {
    file: File,
    ledger: Ledger,
    lines: usize,
    /// The length of the whole lines written; the file is cut back to it
    /// before the next append when a write failed halfway.
    len: u64,
    torn: bool,
}

/// A [`Journal`] in a file of JSON lines (`{"op":"intent",...}`,
/// `{"op":"live",...}`, `{"op":"done","sid":...}`, ...), each appended and
/// fsynced before the call returns.
///
/// Opening it takes an exclusive lock (a `.lock` file next to it, holding the
/// pid), so that two processes never use one journal. A line that is not a
/// journal entry is an error naming the file and line, and the file is left as
/// it is; only a torn last line, left by a crash mid-write, is cut off (see
/// [`FileJournal::torn_tail`]). When dead lines outnumber live ones, the file
/// is rewritten with what is live (written to a temporary file, fsynced, then
/// renamed).
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    state: Mutex<State>,
    torn_tail: Option<TornTail>,
    _lock: JournalLock,
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

fn line_of(entry: &Entry) -> String {
    let mut text = serde_json::to_string(entry).unwrap_or_default();
    text.push('\n');
    text
}

/// What reading the file found.
struct Replayed {
    ledger: Ledger,
    lines: usize,
    /// The length of the file up to the end of its last whole line.
    whole: u64,
    torn: Option<TornTail>,
    /// The last entry is whole but lacks its newline.
    unterminated: bool,
}

fn replay(path: &Path, bytes: &[u8]) -> Result<Replayed, JournalError> {
    let mut replayed = Replayed {
        ledger: Ledger::default(),
        lines: 0,
        whole: 0,
        torn: None,
        unterminated: false,
    };
    let mut start = 0;
    let mut line = 0;
    while start < bytes.len() {
        line += 1;
        let (text, end, terminated) = match bytes[start..].iter().position(|b| *b == b'\n') {
            Some(at) => (&bytes[start..start + at], start + at + 1, true),
            None => (&bytes[start..], bytes.len(), false),
        };
        start = end;
        if text.iter().all(u8::is_ascii_whitespace) {
            if terminated {
                replayed.whole = end as u64;
            }
            continue;
        }
        let parsed = std::str::from_utf8(text)
            .map_err(|error| error.to_string())
            .and_then(|text| serde_json::from_str::<Entry>(text).map_err(|e| e.to_string()));
        match parsed {
            Ok(entry) => {
                replayed.ledger.apply(&entry);
                replayed.lines += 1;
                replayed.whole = end as u64;
                replayed.unterminated = !terminated;
            }
            Err(_) if !terminated => {
                replayed.torn = Some(TornTail {
                    line,
                    bytes: text.len(),
                });
            }
            Err(detail) => {
                return Err(JournalError::Corrupt {
                    path: path.display().to_string(),
                    line,
                    detail,
                });
            }
        }
    }
    Ok(replayed)
}

impl FileJournal {
    /// Opens (or creates) the journal at `path`, locked for this process, and
    /// reads what it holds. A torn last line is cut off before anything is
    /// appended; any other line that is not an entry is an error and leaves the
    /// file untouched.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let path = path.into();
        let lock = lock::acquire(&path)?;
        let existing = match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_file() => {
                return Err(JournalError::NotAFile {
                    path: path.display().to_string(),
                });
            }
            Ok(_) => Some(std::fs::read(&path).map_err(io("read", &path))?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io("open", &path)(error)),
        };
        let replayed = match &existing {
            Some(bytes) => replay(&path, bytes)?,
            None => replay(&path, &[])?,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io("open", &path))?;
        if existing.is_none() {
            sync_dir(&path);
        }
        let mut len = replayed.whole;
        if replayed.torn.is_some() {
            file.set_len(len).map_err(io("repair", &path))?;
            file.sync_data().map_err(io("repair", &path))?;
        }
        if replayed.unterminated {
            file.write_all(b"\n").map_err(io("repair", &path))?;
            file.sync_data().map_err(io("repair", &path))?;
            len += 1;
        }
        let journal = Self {
            path,
            state: Mutex::new(State {
                file,
                ledger: replayed.ledger,
                lines: replayed.lines,
                len,
                torn: false,
            }),
            torn_tail: replayed.torn,
            _lock: lock,
        };
        journal.compact_if_needed(&mut journal.lock())?;
        Ok(journal)
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The torn last line cut off when the journal was opened, if there was one.
    pub fn torn_tail(&self) -> Option<TornTail> {
        self.torn_tail
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, state: &mut State, entry: &Entry) -> Result<(), JournalError> {
        if state.torn {
            // An earlier write failed halfway: cut its fragment off first, so
            // that this line does not run on from it.
            state
                .file
                .set_len(state.len)
                .map_err(io("repair", &self.path))?;
            state.torn = false;
        }
        let text = line_of(entry);
        if let Err(error) = state.file.write_all(text.as_bytes()) {
            state.torn = true;
            return Err(io("append", &self.path)(error));
        }
        if let Err(error) = state.file.sync_data() {
            state.torn = true;
            return Err(io("sync", &self.path)(error));
        }
        state.len += text.len() as u64;
        state.lines += 1;
        Ok(())
    }

    fn compact_if_needed(&self, state: &mut State) -> Result<(), JournalError> {
        let live = state.ledger.entry_count();
        if state.lines <= 2 * live + 64 {
            return Ok(());
        }
        let tmp = self.path.with_extension("compact");
        let mut len = 0;
        {
            let mut out = File::create(&tmp).map_err(io("compact", &tmp))?;
            for entry in state.ledger.entries() {
                let text = line_of(&entry);
                out.write_all(text.as_bytes())
                    .map_err(io("compact", &tmp))?;
                len += text.len() as u64;
            }
            out.sync_all().map_err(io("compact", &tmp))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io("compact", &self.path))?;
        sync_dir(&self.path);
        state.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io("open", &self.path))?;
        state.lines = live;
        state.len = len;
        state.torn = false;
        Ok(())
    }
}

impl Journal for FileJournal {
    fn write(&self, entry: &Entry) -> Result<(), JournalError> {
        let mut state = self.lock();
        let mut next = state.ledger.clone();
        if !next.apply(entry) {
            return Ok(());
        }
        self.append(&mut state, entry)?;
        state.ledger = next;
        if matches!(entry, Entry::Done { .. } | Entry::Dropped { .. }) {
            self.compact_if_needed(&mut state)?;
        }
        Ok(())
    }

    fn ledger(&self) -> Result<Ledger, JournalError> {
        Ok(self.lock().ledger.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use cloudrec_types::{Cname, Mode, ResourceId, Sid, Uid};

    use super::super::Intent;
    use super::*;
    use crate::TaskRef;

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
        assert_eq!(journal.torn_tail().map(|t| t.line), Some(4));
    }

    #[test]
    fn a_torn_tail_is_cut_off_before_the_next_line_is_appended() {
        let path = temp_path("torn-append");
        std::fs::write(
            &path,
            format!(
                "{}\n{{\"op\":\"live\",\"resourceId\":\"ri",
                serde_json::to_string(&Entry::Live { task: task(1) }).unwrap()
            ),
        )
        .unwrap();
        let journal = FileJournal::open(&path).unwrap();
        assert_eq!(journal.torn_tail(), Some(TornTail { line: 2, bytes: 29 }));
        journal.add(&task(2)).unwrap();
        drop(journal);
        let journal = FileJournal::open(&path).unwrap();
        assert_eq!(journal.live().unwrap(), vec![task(1), task(2)]);
        assert_eq!(journal.torn_tail(), None);
    }

    #[test]
    fn a_whole_last_entry_without_its_newline_is_kept() {
        let path = temp_path("unterminated");
        std::fs::write(
            &path,
            serde_json::to_string(&Entry::Live { task: task(1) }).unwrap(),
        )
        .unwrap();
        let journal = FileJournal::open(&path).unwrap();
        journal.add(&task(2)).unwrap();
        drop(journal);
        let journal = FileJournal::open(&path).unwrap();
        assert_eq!(journal.live().unwrap(), vec![task(1), task(2)]);
    }

    #[test]
    fn a_corrupt_line_names_the_file_and_line_and_leaves_the_file_untouched() {
        let path = temp_path("corrupt");
        let good = serde_json::to_string(&Entry::Live { task: task(1) }).unwrap();
        // Enough lines that a compaction would run if the file were accepted.
        let mut text = String::new();
        for _ in 0..100 {
            text.push_str(&good);
            text.push('\n');
        }
        text.push_str("{\"op\":\"live\",\"resourceId\":\"x{\"op\":\"done\",\"sid\":\"sid1\"}\n");
        text.push_str(&good);
        text.push('\n');
        std::fs::write(&path, &text).unwrap();
        let error = FileJournal::open(&path).unwrap_err();
        match &error {
            JournalError::Corrupt {
                line, path: named, ..
            } => {
                assert_eq!(*line, 101);
                assert_eq!(named, &path.display().to_string());
            }
            other => panic!("{other:?}"),
        }
        let message = error.to_string();
        assert!(message.contains("line 101"), "{message}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_second_opener_is_refused_with_the_holders_pid() {
        let path = temp_path("locked");
        let first = FileJournal::open(&path).unwrap();
        let error = FileJournal::open(&path).unwrap_err();
        assert!(matches!(error, JournalError::Locked { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        drop(first);
        FileJournal::open(&path).unwrap();
    }

    #[test]
    fn intents_and_first_404s_survive_a_reopen() {
        use std::time::{Duration, UNIX_EPOCH};

        let path = temp_path("intents");
        let journal = FileJournal::open(&path).unwrap();
        let intent = Intent {
            resource_id: ResourceId::new("rid9").unwrap(),
            mode: Mode::Mix,
            cname: Cname::new("room").unwrap(),
            uid: Uid::new(9).unwrap(),
            at: UNIX_EPOCH + Duration::from_millis(1_000),
        };
        let since = UNIX_EPOCH + Duration::from_millis(2_000);
        journal.write(&Entry::Intent(intent.clone())).unwrap();
        journal.add(&task(1)).unwrap();
        journal
            .write(&Entry::Missing {
                sid: task(1).sid,
                since,
            })
            .unwrap();
        drop(journal);
        let ledger = FileJournal::open(&path).unwrap().ledger().unwrap();
        assert_eq!(ledger.intents(), [intent]);
        assert_eq!(ledger.tasks()[0].missing_since, Some(since));
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

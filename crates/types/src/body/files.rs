//! File lists: `fileList` of individual and mix tasks ([`FileList`] of
//! [`FileInfo`]) and of the web recorder ([`WebFileInfo`]).

use super::values::{keep, once, opt_bool, opt_enum, opt_lenient_i64, opt_text};
use crate::json::Reader;
use crate::{FileInfo, FileList, Text, TrackType, UnknownFields, WebFileInfo};

/// An `Option<FileList>`: `null`, a file name, or an array of [`FileInfo`].
pub(super) fn opt_file_list(reader: &mut Reader<'_>) -> Option<Option<FileList>> {
    match reader.peek()? {
        b'"' => reader.text().map(|name| Some(FileList::Text(name))),
        b'[' => {
            let mut files = Vec::new();
            reader.array(|reader| file_info(reader).map(|file| files.push(file)))?;
            Some(Some(FileList::Json(files)))
        }
        _ => reader.null().then_some(None),
    }
}

/// One [`FileInfo`]; `fileName` may also be spelled `filename` (not both).
fn file_info(reader: &mut Reader<'_>) -> Option<FileInfo> {
    let mut file_name = None;
    let mut file = FileInfo {
        file_name: Text::new(),
        track_type: None,
        uid: None,
        mixed_all_user: None,
        is_playable: None,
        slice_start_time: None,
        unknown: UnknownFields::default(),
    };
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"fileName" | b"filename" => {
                once(&mut seen, 1)?;
                file_name = Some(reader.text()?);
            }
            b"trackType" => {
                once(&mut seen, 2)?;
                file.track_type = opt_enum(reader, TrackType::parse)?;
            }
            b"uid" => {
                once(&mut seen, 4)?;
                file.uid = opt_text(reader)?;
            }
            b"mixedAllUser" => {
                once(&mut seen, 8)?;
                file.mixed_all_user = opt_bool(reader)?;
            }
            b"isPlayable" => {
                once(&mut seen, 16)?;
                file.is_playable = opt_bool(reader)?;
            }
            b"sliceStartTime" => {
                once(&mut seen, 32)?;
                file.slice_start_time = opt_lenient_i64(reader)?;
            }
            _ => keep(reader, key, &mut file.unknown)?,
        }
        Some(())
    })?;
    file.file_name = file_name?;
    Some(file)
}

/// An `Option<Vec<WebFileInfo>>`.
pub(super) fn opt_web_files(reader: &mut Reader<'_>) -> Option<Option<Vec<WebFileInfo>>> {
    if reader.null() {
        return Some(None);
    }
    let mut files = Vec::new();
    reader.array(|reader| web_file(reader).map(|file| files.push(file)))?;
    Some(Some(files))
}

/// One [`WebFileInfo`]; `filename` may also be spelled `fileName` (not both).
fn web_file(reader: &mut Reader<'_>) -> Option<WebFileInfo> {
    let mut filename = None;
    let mut slice_start_time = None;
    let mut unknown = UnknownFields::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"filename" | b"fileName" => {
                once(&mut seen, 1)?;
                filename = Some(reader.text()?);
            }
            b"sliceStartTime" => {
                once(&mut seen, 2)?;
                slice_start_time = opt_lenient_i64(reader)?;
            }
            _ => keep(reader, key, &mut unknown)?,
        }
        Some(())
    })?;
    Some(WebFileInfo {
        filename: filename?,
        slice_start_time,
        unknown,
    })
}

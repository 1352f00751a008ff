//! `serverResponse` of query and stop.

use super::files::opt_file_list;
use super::services::opt_service_states;
use super::values::{keep, once, opt_enum, opt_lenient_i64};
use crate::json::Reader;
use crate::{
    FileListMode, QueryServerResponse, RecordingStatus, StopServerResponse, UploadingStatus,
};

pub(super) fn query(reader: &mut Reader<'_>) -> Option<QueryServerResponse> {
    let mut server = QueryServerResponse::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"status" => {
                once(&mut seen, 1)?;
                server.status = opt_lenient_i64(reader)?.map(RecordingStatus::from_code);
            }
            b"fileListMode" => {
                once(&mut seen, 2)?;
                server.file_list_mode = opt_enum(reader, FileListMode::parse)?;
            }
            b"fileList" => {
                once(&mut seen, 4)?;
                server.file_list = opt_file_list(reader)?;
            }
            b"sliceStartTime" => {
                once(&mut seen, 8)?;
                server.slice_start_time = opt_lenient_i64(reader)?;
            }
            b"extensionServiceState" => {
                once(&mut seen, 16)?;
                server.extension_service_state = opt_service_states(reader)?;
            }
            _ => keep(reader, key, &mut server.unknown)?,
        }
        Some(())
    })?;
    Some(server)
}

pub(super) fn stop(reader: &mut Reader<'_>) -> Option<StopServerResponse> {
    let mut server = StopServerResponse::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"fileListMode" => {
                once(&mut seen, 1)?;
                server.file_list_mode = opt_enum(reader, FileListMode::parse)?;
            }
            b"fileList" => {
                once(&mut seen, 2)?;
                server.file_list = opt_file_list(reader)?;
            }
            b"uploadingStatus" => {
                once(&mut seen, 4)?;
                server.uploading_status = opt_enum(reader, UploadingStatus::parse)?;
            }
            b"extensionServiceState" => {
                once(&mut seen, 8)?;
                server.extension_service_state = opt_service_states(reader)?;
            }
            _ => keep(reader, key, &mut server.unknown)?,
        }
        Some(())
    })?;
    Some(server)
}

//! `extensionServiceState` of web tasks: [`ServiceState`], its
//! [`ServicePayload`] and the [`RtmpOutputState`]s.

use super::files::opt_web_files;
use super::values::{keep, once, opt_bool, opt_enum};
use crate::json::Reader;
use crate::{
    RtmpOutputState, RtmpStatus, ServiceName, ServicePayload, ServiceRunState, ServiceState,
    UnknownFields, UploadingStatus,
};

/// An `Option<Vec<ServiceState>>`.
pub(super) fn opt_service_states(reader: &mut Reader<'_>) -> Option<Option<Vec<ServiceState>>> {
    if reader.null() {
        return Some(None);
    }
    let mut states = Vec::new();
    reader.array(|reader| service_state(reader).map(|state| states.push(state)))?;
    Some(Some(states))
}

/// One [`ServiceState`]; `payload` may also be spelled `playload` (not both).
fn service_state(reader: &mut Reader<'_>) -> Option<ServiceState> {
    let mut service_name = None;
    let mut payload = None;
    let mut unknown = UnknownFields::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"serviceName" => {
                once(&mut seen, 1)?;
                service_name = Some(ServiceName::parse(reader.string()?));
            }
            b"payload" | b"playload" => {
                once(&mut seen, 2)?;
                payload = Some(service_payload(reader)?);
            }
            _ => keep(reader, key, &mut unknown)?,
        }
        Some(())
    })?;
    Some(ServiceState {
        service_name: service_name?,
        payload: payload.unwrap_or_default(),
        unknown,
    })
}

/// A [`ServicePayload`] (an object: `null` is refused, as by the derived decoder).
fn service_payload(reader: &mut Reader<'_>) -> Option<ServicePayload> {
    let mut payload = ServicePayload::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"state" => {
                once(&mut seen, 1)?;
                payload.state = opt_enum(reader, ServiceRunState::parse)?;
            }
            b"onhold" => {
                once(&mut seen, 2)?;
                payload.onhold = opt_bool(reader)?;
            }
            b"fileList" => {
                once(&mut seen, 4)?;
                payload.file_list = opt_web_files(reader)?;
            }
            b"outputs" => {
                once(&mut seen, 8)?;
                payload.outputs = opt_outputs(reader)?;
            }
            b"uploadingStatus" => {
                once(&mut seen, 16)?;
                payload.uploading_status = opt_enum(reader, UploadingStatus::parse)?;
            }
            _ => keep(reader, key, &mut payload.unknown)?,
        }
        Some(())
    })?;
    Some(payload)
}

/// An `Option<Vec<RtmpOutputState>>`.
fn opt_outputs(reader: &mut Reader<'_>) -> Option<Option<Vec<RtmpOutputState>>> {
    if reader.null() {
        return Some(None);
    }
    let mut outputs = Vec::new();
    reader.array(|reader| rtmp_output(reader).map(|output| outputs.push(output)))?;
    Some(Some(outputs))
}

/// One [`RtmpOutputState`].
fn rtmp_output(reader: &mut Reader<'_>) -> Option<RtmpOutputState> {
    let mut rtmp_url = None;
    let mut status = None;
    let mut unknown = UnknownFields::default();
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"rtmpUrl" => {
                once(&mut seen, 1)?;
                rtmp_url = Some(reader.text()?);
            }
            b"status" => {
                once(&mut seen, 2)?;
                status = opt_enum(reader, RtmpStatus::parse)?;
            }
            _ => keep(reader, key, &mut unknown)?,
        }
        Some(())
    })?;
    Some(RtmpOutputState {
        rtmp_url: rtmp_url?,
        status,
        unknown,
    })
}

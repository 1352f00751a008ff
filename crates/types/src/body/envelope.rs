//! The top level of the 200 bodies: `cname`, `uid`, `resourceId`, `sid` and,
//! for query and stop, `serverResponse`.

use super::server;
use super::values::{keep, once, opt_text};
use crate::json::Reader;
use crate::{
    AcquireResponse, Cname, QueryResponse, QueryServerResponse, ResourceId, Sid, StartResponse,
    StopResponse, StopServerResponse, Text, UnknownFields, UpdateResponse,
};

/// The fields of a top level; which ones a type has is given to [`read`].
struct Envelope<S> {
    cname: Option<Cname>,
    uid: Option<Text>,
    resource_id: Option<ResourceId>,
    sid: Option<Sid>,
    server: Option<S>,
    unknown: UnknownFields,
}

/// What a type reads of `serverResponse`, if it has the field.
type ServerReader<S> = Option<fn(&mut Reader<'_>) -> Option<S>>;

/// Reads a top level with `sid` when `has_sid`, and `serverResponse` with
/// `server` when given; other members are kept as unknown.
fn read<S>(reader: &mut Reader<'_>, has_sid: bool, server: ServerReader<S>) -> Option<Envelope<S>> {
    let mut envelope = Envelope {
        cname: None,
        uid: None,
        resource_id: None,
        sid: None,
        server: None,
        unknown: UnknownFields::default(),
    };
    let mut seen = 0;
    reader.object(|reader, key| {
        match key {
            b"cname" => {
                once(&mut seen, 1)?;
                envelope.cname = opt_text(reader)?.map(Cname::from_wire);
            }
            b"uid" => {
                once(&mut seen, 2)?;
                envelope.uid = opt_text(reader)?;
            }
            b"resourceId" => {
                once(&mut seen, 4)?;
                envelope.resource_id = Some(ResourceId::from_wire(reader.text()?));
            }
            b"sid" if has_sid => {
                once(&mut seen, 8)?;
                envelope.sid = Some(Sid::from_wire(reader.text()?));
            }
            b"serverResponse" if server.is_some() => {
                once(&mut seen, 16)?;
                envelope.server = Some(server?(reader)?);
            }
            _ => keep(reader, key, &mut envelope.unknown)?,
        }
        Some(())
    })?;
    Some(envelope)
}

/// No `serverResponse` field.
const NO_SERVER: ServerReader<()> = None;

pub(super) fn acquire(reader: &mut Reader<'_>) -> Option<AcquireResponse> {
    let envelope = read(reader, false, NO_SERVER)?;
    Some(AcquireResponse {
        cname: envelope.cname,
        uid: envelope.uid,
        resource_id: envelope.resource_id?,
        unknown: envelope.unknown,
    })
}

pub(super) fn start(reader: &mut Reader<'_>) -> Option<StartResponse> {
    let envelope = read(reader, true, NO_SERVER)?;
    Some(StartResponse {
        cname: envelope.cname,
        uid: envelope.uid,
        resource_id: envelope.resource_id?,
        sid: envelope.sid?,
        unknown: envelope.unknown,
    })
}

pub(super) fn update(reader: &mut Reader<'_>) -> Option<UpdateResponse> {
    let envelope = read(reader, true, NO_SERVER)?;
    Some(UpdateResponse {
        cname: envelope.cname,
        uid: envelope.uid,
        resource_id: envelope.resource_id?,
        sid: envelope.sid?,
        unknown: envelope.unknown,
    })
}

pub(super) fn query(reader: &mut Reader<'_>) -> Option<QueryResponse> {
    let envelope = read::<QueryServerResponse>(reader, true, Some(server::query))?;
    Some(QueryResponse {
        cname: envelope.cname,
        uid: envelope.uid,
        resource_id: envelope.resource_id?,
        sid: envelope.sid?,
        server_response: envelope.server.unwrap_or_default(),
        unknown: envelope.unknown,
    })
}

pub(super) fn stop(reader: &mut Reader<'_>) -> Option<StopResponse> {
    let envelope = read::<StopServerResponse>(reader, true, Some(server::stop))?;
    Some(StopResponse {
        cname: envelope.cname,
        uid: envelope.uid,
        resource_id: envelope.resource_id?,
        sid: envelope.sid?,
        server_response: envelope.server.unwrap_or_default(),
        unknown: envelope.unknown,
    })
}

use cloudrec_types::{AppId, Endpoint, Mode, ResourceId, Sid};

/// Appends `segment` to `out`, percent-encoding every byte that is not an
/// unreserved URL character, so that no id can change the path's shape.
fn push_segment(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(segment.len() + 1);
    out.push('/');
    let mut start = 0;
    while let Some(offset) = segment
        .as_bytes()
        .get(start..)
        .and_then(|rest| rest.iter().position(|&byte| !is_unreserved(byte)))
    {
        let at = start + offset;
        let byte = segment.as_bytes()[at];
        // A run of unreserved bytes is ASCII, so its ends are character boundaries.
        out.push_str(segment.get(start..at).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        start = at + 1;
    }
    out.push_str(segment.get(start..).unwrap_or_default());
}

fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// Whether each byte value is an unreserved URL character (RFC 3986 §2.3).
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        byte += 1;
    }
    table
};

/// `/v1/apps/{appid}`, with room for the rest of a path holding `ids` bytes of
/// further ids (more is allocated only if they need escaping).
fn prefix(app_id: &AppId, ids: usize) -> String {
    const FIXED: usize = "/v1/apps//cloud_recording/resourceid//sid//mode//updateLayout".len();
    let mut path = String::with_capacity(FIXED + app_id.as_str().len() + ids);
    path.push_str("/v1/apps");
    push_segment(&mut path, app_id.as_str());
    path
}

/// The path of an acquire call.
pub(crate) fn acquire(app_id: &AppId) -> String {
    let mut path = prefix(app_id, 0);
    path.push_str("/cloud_recording/acquire");
    path
}

/// The path of a start call.
pub(crate) fn start(app_id: &AppId, resource_id: &ResourceId, mode: &Mode) -> String {
    let mut path = prefix(app_id, resource_id.as_str().len() + mode.as_str().len());
    path.push_str("/cloud_recording/resourceid");
    push_segment(&mut path, resource_id.as_str());
    path.push_str("/mode");
    push_segment(&mut path, mode.as_str());
    path.push_str("/start");
    path
}

/// The path of a call on a running task: query, update, updateLayout or stop.
pub(crate) fn task(
    app_id: &AppId,
    resource_id: &ResourceId,
    sid: &Sid,
    mode: &Mode,
    endpoint: Endpoint,
) -> String {
    let ids = resource_id.as_str().len() + sid.as_str().len() + mode.as_str().len();
    let mut path = prefix(app_id, ids);
    path.push_str("/cloud_recording/resourceid");
    push_segment(&mut path, resource_id.as_str());
    path.push_str("/sid");
    push_segment(&mut path, sid.as_str());
    path.push_str("/mode");
    push_segment(&mut path, mode.as_str());
    path.push('/');
    path.push_str(endpoint.as_str());
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_reference_and_escape_ids() {
        let app = AppId::new("app1").unwrap();
        let rid = ResourceId::new("r/1+x=").unwrap();
        let sid = Sid::new("abc").unwrap();
        assert_eq!(acquire(&app), "/v1/apps/app1/cloud_recording/acquire");
        assert_eq!(
            start(&app, &rid, &Mode::Mix),
            "/v1/apps/app1/cloud_recording/resourceid/r%2F1%2Bx%3D/mode/mix/start"
        );
        assert_eq!(
            task(&app, &rid, &sid, &Mode::Web, Endpoint::UpdateLayout),
            "/v1/apps/app1/cloud_recording/resourceid/r%2F1%2Bx%3D/sid/abc/mode/web/updateLayout"
        );
    }

    #[test]
    fn every_byte_outside_the_unreserved_set_is_escaped() {
        let mut path = String::new();
        push_segment(&mut path, "a é/%~_.-Z9");
        assert_eq!(path, "/a%20%C3%A9%2F%25~_.-Z9");
        let mut path = String::new();
        push_segment(&mut path, "é");
        assert_eq!(path, "/%C3%A9");
        let mut path = String::new();
        push_segment(&mut path, "");
        assert_eq!(path, "/");
    }
}

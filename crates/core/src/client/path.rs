use std::fmt::Write;

use cloudrec_types::{AppId, Endpoint, Mode, ResourceId, Sid};

/// Appends `segment` to `out`, percent-encoding every byte that is not an
/// unreserved URL character, so that no id can change the path's shape.
fn push_segment(out: &mut String, segment: &str) {
    out.push('/');
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// The path of an acquire call.
pub(crate) fn acquire(app_id: &AppId) -> String {
    let mut path = String::from("/v1/apps");
    push_segment(&mut path, app_id.as_str());
    path.push_str("/cloud_recording/acquire");
    path
}

/// The path of a start call.
pub(crate) fn start(app_id: &AppId, resource_id: &ResourceId, mode: &Mode) -> String {
    let mut path = String::from("/v1/apps");
    push_segment(&mut path, app_id.as_str());
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
    let mut path = String::from("/v1/apps");
    push_segment(&mut path, app_id.as_str());
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
}

use cloudrec_types::{AppId, Endpoint, Mode, ResourceId, Sid};

/// Appends `segment` to `out`, percent-encoding every byte that is not an
/// unreserved URL character, so that no id can change the path's shape.
fn push_segment(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(segment.len() + 1);
    out.push('/');
    let bytes = segment.as_bytes();
    let mut start = 0;
    loop {
        let rest = bytes.get(start..).unwrap_or_default();
        let at = start + unreserved_prefix(rest);
        // A run of unreserved bytes is ASCII, so its ends are character boundaries.
        out.push_str(segment.get(start..at).unwrap_or_default());
        let Some(&byte) = bytes.get(at) else {
            return;
        };
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        start = at + 1;
    }
}

/// How many bytes at the start of `bytes` are unreserved URL characters: eight
/// at a time while whole words are, then byte by byte.
fn unreserved_prefix(bytes: &[u8]) -> usize {
    let mut words = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        if !all_unreserved(word) {
            break;
        }
        words += 8;
    }
    let tail = bytes.get(words..).unwrap_or_default();
    words + tail.iter().take_while(|&&byte| is_unreserved(byte)).count()
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether all eight bytes of `word` are unreserved URL characters
/// (`A-Z a-z 0-9 - . _ ~`).
fn all_unreserved(word: u64) -> bool {
    if word & HIGH != 0 {
        return false;
    }
    let unreserved = within(word, b'-', b'.')
        | within(word, b'0', b'9')
        | within(word, b'A', b'Z')
        | within(word, b'_', b'_')
        | within(word, b'a', b'z')
        | within(word, b'~', b'~');
    unreserved == HIGH
}

/// The high bit of each byte of `word` (all below 0x80) that lies in
/// `low..=high`: adding `0x80 - bound` sets the high bit exactly of the bytes at
/// or above `bound`, and cannot carry into the next byte.
fn within(word: u64, low: u8, high: u8) -> u64 {
    let at_least = |bound: u8| word.wrapping_add(ONES * u64::from(0x80 - bound)) & HIGH;
    at_least(low) & !at_least(high + 1)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

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

/// The path of the NCS address list; it names no App ID.
pub(crate) const NCS_IP: &str = "/v1/ncs/ip";

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

    proptest::proptest! {
        #[test]
        fn words_are_judged_as_their_bytes_are(bytes in proptest::array::uniform8(0u8..=255)) {
            let word = u64::from_le_bytes(bytes);
            proptest::prop_assert_eq!(all_unreserved(word), bytes.iter().all(|&b| is_unreserved(b)));
        }

        #[test]
        fn the_unreserved_prefix_is_counted_exactly(
            bytes in proptest::collection::vec(proptest::sample::select(
                b"aZ09-._~/%+=? \x00\x7f\x80\xff".to_vec()), 0..40),
        ) {
            let expected = bytes.iter().take_while(|&&b| is_unreserved(b)).count();
            proptest::prop_assert_eq!(unreserved_prefix(&bytes), expected);
        }
    }

    #[test]
    fn every_byte_value_is_judged_alone_in_every_position() {
        for byte in 0..=u8::MAX {
            for position in 0..8 {
                let mut bytes = *b"aaaaaaaa";
                bytes[position] = byte;
                let word = u64::from_le_bytes(bytes);
                assert_eq!(
                    all_unreserved(word),
                    is_unreserved(byte),
                    "{byte:#x} at {position}"
                );
            }
        }
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

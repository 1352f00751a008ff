use serde::{Deserialize, Deserializer, Serialize};

use crate::ErrorBodyRef;

/// The body of a failed call, in either of its two forms.
///
/// - The gateway form `{"message": "..."}` answers authentication, routing, rate
///   limit and invalid App ID failures; it has no `code`.
/// - The service form `{"code": 65, "reason": "..."}` answers everything else and
///   may carry `cname`, `uid`, `resourceId`, `sid` (possibly empty) and more; the
///   `reason` may be missing.
///
/// Unknown fields are ignored, so any revision of the service decodes. Decoding
/// goes through [`ErrorBodyRef`], the decoder classification uses too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The service error code; absent in the gateway form. A decimal string is
    /// accepted too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The service's explanation; for code 2 it names the bad field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The gateway's explanation (gateway form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The channel name, when the service echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cname: Option<String>,
    /// The recorder uid, when the service echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resource id, when the service echoes it (for example with code 7 or 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The session id, when the service echoes it; may be the empty string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ErrorBodyRef::deserialize(deserializer).map(ErrorBodyRef::into_owned)
    }
}

impl ErrorBody {
    /// A gateway-form body.
    pub fn gateway(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::default()
        }
    }

    /// A service-form body.
    pub fn service(code: i64, reason: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }

    /// The human text: the reason, else the message.
    pub fn text(&self) -> Option<&str> {
        self.reason.as_deref().or(self.message.as_deref())
    }

    /// The sid if present and not empty.
    pub fn non_empty_sid(&self) -> Option<&str> {
        self.sid.as_deref().filter(|sid| !sid.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_forms_and_extra_fields() {
        let gateway: ErrorBody =
            serde_json::from_str(r#"{"message":"no Route matched with those values"}"#).unwrap();
        assert_eq!(gateway.code, None);
        assert_eq!(gateway.text(), Some("no Route matched with those values"));

        let observed: ErrorBody = serde_json::from_str(
            r#"{"resourceId":"abc","sid":"","code":15,"serverResponse":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(observed.code, Some(15));
        assert_eq!(observed.reason, None);
        assert_eq!(observed.non_empty_sid(), None);
        assert_eq!(observed.resource_id.as_deref(), Some("abc"));
    }
}

//! What the store holds of a session: its state and its report, from the
//! session's view.

use super::*;

/// The text of a report's end: state, reason, files, upload status.
pub(super) fn report_of(report: &SessionReport) -> Report {
    let mut out = match &report.end {
        End::Stopped {
            files,
            uploading_status,
            reason,
        } => Report {
            reason: reason.clone(),
            files: files.clone(),
            uploading_status: uploading_status.as_ref().map(|s| s.as_str().to_owned()),
        },
        End::StoppedNoData => Report {
            reason: Some("nothing was recorded".to_owned()),
            ..Report::default()
        },
        End::Failed { why } | End::Lost { why } => Report {
            reason: Some(why.clone()),
            ..Report::default()
        },
    };
    if !report.unconfirmed.is_empty() {
        let sids: Vec<&str> = report.unconfirmed.iter().map(|t| t.sid.as_str()).collect();
        let note = format!(
            "task(s) {} could not be confirmed as stopped and may record until their maxIdleTime",
            sids.join(", ")
        );
        out.reason = Some(match out.reason {
            Some(reason) => format!("{reason}; {note}"),
            None => note,
        });
    }
    out
}

/// What the store should hold for a session that looks like `view`.
pub(super) fn update_of(view: &SessionView, snapshot: &serde_json::Value) -> SessionUpdate {
    let (state, report) = match &view.report {
        Some(report) => (report.end.state().as_str(), report_of(report)),
        None => (
            view.state.map_or(WAITING, |state| state.as_str()),
            Report::default(),
        ),
    };
    let resource_id = view
        .task
        .as_ref()
        .map(|task| task.resource_id.as_str().to_owned())
        .or_else(|| view.resource_id.as_ref().map(|r| r.as_str().to_owned()));
    SessionUpdate {
        state: state.to_owned(),
        snapshot: snapshot.clone(),
        report: serde_json::to_value(report).unwrap_or_default(),
        resource_id,
        sid: view.task.as_ref().map(|task| task.sid.as_str().to_owned()),
    }
}

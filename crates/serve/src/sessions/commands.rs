//! Commands between workers: what a worker that does not own a recording
//! leaves in the store, and how the owner applies them, in order, once.

use super::*;

impl Sessions {
    pub(super) async fn send_command(
        &self,
        id: Uuid,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<CommandId, Problem> {
        let sent = self.store.send_command(id, kind, body).await;
        sent.map_err(|error| {
            self.metrics.store_failed("send_command");
            store_problem(&error)
        })
    }

    /// Leaves a command for the owner of `recording` and waits, looking every
    /// [`COMMAND_POLL`] for up to [`COMMAND_WAIT`], for its outcome: the
    /// recording when it was applied, the owner's problem when it failed, 504
    /// when it was not applied in time (it stays queued).
    pub(super) async fn forward(
        &self,
        recording: Recording,
        kind: CommandKind,
        body: &serde_json::Value,
    ) -> Result<Recording, Problem> {
        let id = self.send_command(recording.id, kind, body).await?;
        let until = tokio::time::Instant::now() + COMMAND_WAIT;
        loop {
            tokio::time::sleep(COMMAND_POLL).await;
            match self.store.command(id).await {
                Ok(Some(Command {
                    state: CommandState::Done,
                    ..
                })) => return Ok(recording),
                Ok(Some(Command {
                    state: CommandState::Failed,
                    result,
                    ..
                })) => return Err(problem_of(result.as_deref())),
                Ok(_) => {}
                Err(error) => {
                    self.metrics.store_failed("command");
                    tracing::warn!(%error, command = %id, "cannot read the outcome of a command");
                }
            }
            if tokio::time::Instant::now() >= until {
                let owner = recording.owner.as_deref().map_or_else(
                    || "no worker owns the recording right now".to_owned(),
                    |owner| format!("worker {owner} owns the recording"),
                );
                return Err(Problem::not_applied(format!(
                    "the command ({id}) was not applied within {}s ({owner}); it stays queued and its owner applies it when it can: look at the recording before sending it again",
                    COMMAND_WAIT.as_secs()
                )));
            }
        }
    }

    /// Wakes the task that applies this worker's commands: one may be waiting
    /// in the store (a notification, a takeover).
    pub fn commands_arrived(&self) {
        self.commands.notify_one();
    }

    /// Waits until [`commands_arrived`](Self::commands_arrived) is called
    /// (at once if it was called since the last wait).
    pub async fn commands_waiting(&self) {
        self.commands.notified().await;
    }

    /// Applies the commands other workers left for the recordings this worker
    /// owns: each session's in the order they were sent, sessions side by
    /// side. A command is finished in the store once applied (an update once
    /// the service answered), with the problem the asker is to answer when it
    /// failed. A command for a recording this process does not supervise
    /// stays pending for its next owner, unless the recording has ended.
    /// Answers how many were applied.
    pub async fn apply_commands(self: &Arc<Self>) -> Result<usize, StoreError> {
        let commands = self.store.pending_commands(&self.config.worker).await?;
        let mut by_session: Vec<(Uuid, Vec<Command>)> = Vec::new();
        for command in commands {
            match by_session
                .iter_mut()
                .find(|(id, _)| *id == command.session_id)
            {
                Some((_, queue)) => queue.push(command),
                None => by_session.push((command.session_id, vec![command])),
            }
        }
        let mut runs = tokio::task::JoinSet::new();
        for (id, queue) in by_session {
            let sessions = Arc::clone(self);
            runs.spawn(async move { sessions.apply_queue(id, queue).await });
        }
        let mut applied = 0;
        while let Some(done) = runs.join_next().await {
            applied += done.unwrap_or(0);
        }
        Ok(applied)
    }

    pub(super) async fn apply_queue(&self, id: Uuid, queue: Vec<Command>) -> usize {
        let mut applied = 0;
        for command in queue {
            let outcome = match self.order(id) {
                Some(orders) => self.apply(&orders, &command).await,
                None => match self.store.get(id).await {
                    Ok(Some(row)) if is_terminal(&row.state) => match command.kind {
                        CommandKind::Update | CommandKind::UpdateLayout => Err(Problem::conflict(
                            format!("the recording has ended ({}): create a new one", row.state),
                        )),
                        _ => Ok(()),
                    },
                    // Not supervised here: the next owner applies it.
                    _ => return applied,
                },
            };
            let result = outcome
                .as_ref()
                .err()
                .map(|problem| serde_json::to_string(problem).unwrap_or_default());
            if let Err(error) = self
                .store
                .finish_command(command.id, outcome.is_ok(), result.as_deref())
                .await
            {
                self.metrics.store_failed("finish_command");
                tracing::error!(%error, command = %command.id, recording = %id, "applied a command but could not mark it done: it may be applied again");
                return applied;
            }
            tracing::info!(command = %command.id, recording = %id, kind = command.kind.as_str(), ok = outcome.is_ok(), "applied a command from another worker");
            applied += 1;
        }
        applied
    }

    pub(super) async fn apply(
        &self,
        orders: &mpsc::UnboundedSender<Order>,
        command: &Command,
    ) -> Result<(), Problem> {
        let ended = || Problem::conflict("the recording has ended: create a new one");
        match command.kind {
            // Stopping a recording that has just ended is not an error.
            CommandKind::Stop => {
                let _ = orders.send(Order::Stop);
                Ok(())
            }
            CommandKind::QueryNow => {
                let _ = orders.send(Order::QueryNow);
                Ok(())
            }
            CommandKind::Update => {
                let request: UpdateClientRequest = serde_json::from_value(command.body.clone())
                    .map_err(|error| {
                        Problem::invalid(
                            "clientRequest",
                            format!(
                                "the stored update does not fit the REST API's schema: {}",
                                cloudrec_types::redact::serde_message(&error)
                            ),
                        )
                    })?;
                let (reply, answer) = oneshot::channel();
                orders
                    .send(Order::Update(Box::new(request), reply))
                    .map_err(|_| ended())?;
                outcome(answer.await)
            }
            CommandKind::UpdateLayout => {
                let request: UpdateLayoutClientRequest =
                    serde_json::from_value(command.body.clone()).map_err(|error| {
                        Problem::invalid(
                            "clientRequest",
                            format!(
                                "the stored updateLayout does not fit the REST API's schema: {}",
                                cloudrec_types::redact::serde_message(&error)
                            ),
                        )
                    })?;
                let (reply, answer) = oneshot::channel();
                orders
                    .send(Order::UpdateLayout(Box::new(request), reply))
                    .map_err(|_| ended())?;
                outcome(answer.await)
            }
            _ => Err(Problem::internal(format!(
                "this worker cannot apply a {} command",
                command.kind.as_str()
            ))),
        }
    }
}

//! How an event is laid out in an AMQP message.

/// The CloudEvents content mode the [`AmqpSink`](crate::AmqpSink) publishes in, chosen
/// per sink with [`AmqpConfig::content_mode`](crate::AmqpConfig::content_mode).
///
/// Both modes keep the same routing key (the type suffix), `message_id` (the event
/// id), `type` property (the event type), `timestamp` and persistent delivery; they
/// differ in where the CloudEvents attributes go. [`CloudEvent::from_amqp`]
/// decodes either.
///
/// [`CloudEvent::from_amqp`]: crate::CloudEvent::from_amqp
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentMode {
    /// The whole event, attributes and `data`, as one JSON object in the body;
    /// content type `application/cloudevents+json`. The default.
    #[default]
    Structured,
    /// The attributes as `ce-`-prefixed string headers (`ce-specversion`, `ce-id`,
    /// `ce-source`, `ce-type`, `ce-subject`, `ce-time` and one `ce-<name>` per
    /// extension), content type = the `datacontenttype` (`application/json`), and
    /// the body = the `data` JSON alone. This is the RabbitMQ protocol binding of
    /// CloudEvents, as the CloudEvents SDKs' RabbitMQ bindings read it.
    Binary,
}

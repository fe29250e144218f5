"""Pure normalization: a raw record in, one unified Tick (a dict of the tick schema) out, or a
RejectedRecord with a reason code. No Kafka here."""

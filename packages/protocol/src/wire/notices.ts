/**
 * Notices (docs/PROTOCOL.md §4, "Notices"): what a server tells a client while one of its puts waits, on a
 * connection that negotiated the `pending-notice` capability. Version 1 defines one notice: the operator decides
 * about the put (`PENDING_APPROVAL`), and says how long the put may wait, so that the client waits that long too
 * instead of giving up (and sending the put again, to be asked about twice).
 */

/** The capability that lets a server send `notice` envelopes. */
export const PENDING_NOTICE_CAPABILITY = 'pending-notice';

/** The operator decides about the put; `timeoutMs` bounds the wait from the moment the notice is sent. */
export const NOTICE_PENDING_APPROVAL = 'PENDING_APPROVAL';

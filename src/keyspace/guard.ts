/**
 * How the keyspace gate is about to change a key, for the snapshot guard:
 * - GUARD_REPLACE: the key gets a new value object or a new TTL (or is created); the old value
 *   object itself is not changed, so a snapshot may keep a reference to it;
 * - GUARD_DELETE: the key goes away (DEL, expiry, eviction, the source of RENAME/MOVE);
 * - GUARD_MUTATE: the caller got the value for a change in place (lookupWrite): a snapshot that
 *   still needs the old contents must copy them now.
 */
export type GuardChange = 0 | 1 | 2;
export const GUARD_REPLACE = 0;
export const GUARD_DELETE = 1;
export const GUARD_MUTATE = 2;

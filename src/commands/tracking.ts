import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { parseInt64 } from '../util/number.js';
import { enableTracking, disableTracking, trackingState, prefixCollision } from '../server/tracking.js';

/**
 * CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
 * (clientCommand "tracking" in src/networking.c, Redis 7.0).
 */
function clientTracking(c: Client): void {
  let redirect = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  const argv = c.argv;
  for (let j = 3; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = argv[j]!.toLowerCase();
    if (o === 'redirect' && more > 0) {
      j++;
      if (redirect !== 0) {
        c.addError('ERR A client can only redirect to a single other client');
        return;
      }
      const id = parseInt64(argv[j]!);
      if (id === null) {
        c.addError(ERR.notInteger);
        return;
      }
      redirect = Number(id);
      if (!c.server.clients.has(redirect)) {
        c.addError('ERR The client ID you want redirect to does not exist');
        return;
      }
    } else if (o === 'bcast') opts.bcast = true;
    else if (o === 'optin') opts.optin = true;
    else if (o === 'optout') opts.optout = true;
    else if (o === 'noloop') opts.noloop = true;
    else if (o === 'prefix' && more > 0) prefixes.push(argv[++j]!);
    else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const mode = argv[2]!.toLowerCase();
  if (mode === 'on') {
    if (!opts.bcast && prefixes.length) {
      c.addError('ERR PREFIX option requires BCAST mode to be enabled');
      return;
    }
    const st = trackingState(c);
    if (st !== null && st.on && st.bcast !== opts.bcast) {
      c.addError("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
      return;
    }
    if (opts.bcast && (opts.optin || opts.optout)) {
      c.addError('ERR OPTIN and OPTOUT are not compatible with BCAST');
      return;
    }
    if (opts.optin && opts.optout) {
      c.addError("ERR You can't specify both OPTIN mode and OPTOUT mode");
      return;
    }
    const collision = prefixCollision(c, prefixes);
    if (collision !== null) {
      c.addError(collision);
      return;
    }
    enableTracking(c, redirect, opts, prefixes);
  } else if (mode === 'off') {
    disableTracking(c);
  } else {
    c.addError(ERR.syntax);
    return;
  }
  c.addOk();
}

/** CLIENT CACHING YES|NO */
function clientCaching(c: Client): void {
  const st = trackingState(c);
  if (st === null || !st.on) {
    c.addError('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
    return;
  }
  const o = c.argv[2]!.toLowerCase();
  if (o === 'yes') {
    if (!st.optin) {
      c.addError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
      return;
    }
  } else if (o === 'no') {
    if (!st.optout) {
      c.addError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
      return;
    }
  } else {
    c.addError(ERR.syntax);
    return;
  }
  st.caching = true;
  c.addOk();
}

/** CLIENT GETREDIR: the redirection id, 0 without one, -1 when tracking is off. */
function clientGetredir(c: Client): void {
  const st = trackingState(c);
  c.addInt(st !== null && st.on ? st.redirect : -1);
}

/** CLIENT TRACKINGINFO: flags (set), redirect, prefixes. */
function clientTrackinginfo(c: Client): void {
  const st = trackingState(c);
  const on = st !== null && st.on;
  const flags = [on ? 'on' : 'off'];
  if (st && on) {
    if (st.bcast) flags.push('bcast');
    if (st.optin) {
      flags.push('optin');
      if (st.caching) flags.push('caching-yes');
    }
    if (st.optout) {
      flags.push('optout');
      if (st.caching) flags.push('caching-no');
    }
    if (st.noloop) flags.push('noloop');
    if (st.brokenRedirect) flags.push('broken_redirect');
  }
  c.addMapLen(3);
  c.addBulk('flags');
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('redirect');
  c.addInt(on ? st!.redirect : -1);
  c.addBulk('prefixes');
  const prefixes = st ? [...st.prefixes].sort() : [];
  c.addBulkArray(prefixes);
}

/** Handlers of CLIENT's client-side-caching subcommands. */
export const trackingCommands: Record<string, Handler> = {
  'client|tracking': clientTracking,
  'client|caching': clientCaching,
  'client|getredir': clientGetredir,
  'client|trackinginfo': clientTrackinginfo,
};

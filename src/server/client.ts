import type { Socket } from 'node:net';
import { ReplyWriter } from '../protocol/reply.js';
import { RequestParser } from '../protocol/parser.js';
import type { Database } from '../keyspace/database.js';
import type { Server } from './server.js';
import type { CommandSpec } from '../commands/spec.js';
import type { AclUser } from './acl/user.js';

/** CLIENT REPLY modes. */
export type ReplyMode = 'on' | 'off' | 'skip' | 'skip-next';

/**
 * One connection: its parser, pending replies (a {@link ReplyWriter}), selected database and the
 * state Redis keeps in `struct client` (src/server.h). Handlers see it as `c`.
 */
export class Client extends ReplyWriter {
  readonly id: number;
  readonly server: Server;
  readonly socket: Socket | null;
  readonly parser: RequestParser;
  /** the current command's arguments (latin1); argv[0] is the command name as sent */
  argv: string[] = [];
  /** the spec of the command being run */
  cmd: CommandSpec | null = null;
  lastCmd: CommandSpec | null = null;
  db: Database;
  name = '';
  /**
   * the ACL user the connection runs as (the default user until AUTH or HELLO AUTH); null for
   * the internal clients that may run anything (the AOF loader's)
   */
  user: AclUser | null;
  authenticated: boolean;
  libName = '';
  libVer = '';
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  /** "ip:port" of the peer and of the local end, as CLIENT LIST prints them */
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  /** reply once then close (QUIT, protocol errors) */
  closeAfterReply = false;
  closed = false;
  replyMode: ReplyMode = 'on';
  /** true while the client waits (blocking command, CLIENT PAUSE); input is not processed */
  blocked = false;
  /** set by blocking commands; see server/blocking */
  blockState: unknown = null;
  /** MONITOR client */
  monitor = false;
  /** the scripting engine's client, which runs redis.call's commands (CLIENT_SCRIPT) */
  script = false;
  /** exempt from client eviction (CLIENT NO-EVICT) */
  noEvict = false;
  /** pub/sub, transaction and tracking state belong to their layers; they keep it here */
  pubsub: unknown = null;
  multi: unknown = null;
  tracking: unknown = null;
  /** commands processed on this connection */
  commandsProcessed = 0;
  /** bytes of replies pending to the socket or queued in it */
  get outputBytes(): number {
    return this.out.length + (this.socket?.writableLength ?? 0);
  }
  /** set when the client has output to flush this turn */
  pendingFlush = false;

  constructor(server: Server, id: number, socket: Socket | null, db: Database) {
    super();
    this.server = server;
    this.id = id;
    this.socket = socket;
    this.db = db;
    // clientSetDefaultAuth: authenticated at once when the default user takes no password
    this.user = server.acl.defaultUser;
    this.authenticated = server.acl.defaultUserAuthenticates();
    this.parser = new RequestParser(new ClientParserLimits(this));
    if (socket) {
      const ra = socket.remoteAddress ?? '';
      const la = socket.localAddress ?? '';
      this.addr = formatAddr(ra, socket.remotePort ?? 0);
      this.laddr = formatAddr(la, socket.localPort ?? 0);
      // Node hides the file descriptor; Redis prints it in CLIENT LIST. Expose it where it exists.
      const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
      this.fd = handle?.fd ?? -1;
    } else {
      this.addr = '';
      this.laddr = '';
      this.fd = -1;
    }
  }
}

/**
 * The parser's view of its client's limits. A class, not an object literal with getters: every
 * literal would get its own hidden class, and the parser's loads would go megamorphic.
 */
class ClientParserLimits {
  constructor(private readonly c: Client) {}
  get maxBulkLen(): number {
    return this.c.server.config.get<number>('proto-max-bulk-len');
  }
  get authRequired(): boolean {
    return !this.c.authenticated;
  }
}

function formatAddr(ip: string, port: number): string {
  const clean = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  // anetFormatAddr: IPv6 addresses are bracketed, "[::1]:6379"
  return clean.includes(':') ? `[${clean}]:${port}` : `${clean}:${port}`;
}

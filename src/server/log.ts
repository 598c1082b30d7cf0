import { appendFileSync } from 'node:fs';

/** Log levels in Redis's order; a message is written when its level >= the configured one. */
export const LOG_LEVELS = { debug: 0, verbose: 1, notice: 2, warning: 3 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;
const LEVEL_CHAR = ['.', '-', '*', '#'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Writes log lines in Redis's format (serverLogRaw in src/server.c):
 * `pid:role dd Mon yyyy hh:mm:ss.mmm <level char> message`, role `M` for a master, to stdout or
 * to `logfile`. Time is local time, as Redis prints it.
 */
export class Logger {
  level: LogLevel = 'notice';
  /** file to append to; '' means stdout */
  file = '';
  /** silence everything (library use with no log wanted) */
  quiet = false;

  log(level: LogLevel, msg: string): void {
    if (this.quiet || LOG_LEVELS[level] < LOG_LEVELS[this.level]) return;
    const line = `${process.pid}:M ${timestamp(new Date())} ${LEVEL_CHAR[LOG_LEVELS[level]]} ${msg}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, line);
        return;
      } catch {
        // fall through to stdout so the line is not lost when the log file cannot be written
      }
    }
    process.stdout.write(line);
  }
  debug(msg: string): void { this.log('debug', msg); }
  verbose(msg: string): void { this.log('verbose', msg); }
  notice(msg: string): void { this.log('notice', msg); }
  warning(msg: string): void { this.log('warning', msg); }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `20 Nov 2026 23:31:33.123`, local time. */
export function timestamp(d: Date): string {
  return `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

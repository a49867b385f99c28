import { activeTraceId } from '@latchkey/messaging';
import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * Nest's console logger, plus ` trace_id=<id>` at the end of a line written while a span is active (a
 * NATS handler, a gateway request) when tracing is on, so a log line leads to its trace. Only the id is
 * added: what a line says is still up to its caller, who keeps secrets out of it as before.
 */
export class TraceConsoleLogger extends ConsoleLogger {
  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
    params?: Record<string, unknown>,
  ): string {
    const line = super.formatMessage(logLevel, message, pidMessage, formattedLogLevel, contextMessage, timestampDiff, params);
    const traceId = activeTraceId();
    if (!traceId) return line;
    return line.endsWith('\n') ? `${line.slice(0, -1)} trace_id=${traceId}\n` : `${line} trace_id=${traceId}`;
  }

  /** JSON lines (`LOG_FORMAT=json`): the same object Nest writes, plus `service` and `trace_id`. */
  protected override getJsonLogObject(message: unknown, options: Parameters<ConsoleLogger['getJsonLogObject']>[1]) {
    const entry = super.getJsonLogObject(message, options);
    const traceId = activeTraceId();
    return { ...entry, ...(this.service ? { service: this.service } : {}), ...(traceId ? { trace_id: traceId } : {}) };
  }

  constructor(
    private readonly service?: string,
    options: { json?: boolean } = {},
  ) {
    super(options.json ? { json: true } : {});
  }
}

import { ServerNats } from '@nestjs/microservices';

/**
 * Nest's microservice server first tries `JSON.parse` on every incoming subject (patterns may be
 * objects); for our plain `latchkey.*` subjects that throws and catches a SyntaxError per message,
 * ~6% of the token service's CPU under load. Subjects that cannot be JSON skip the attempt.
 */
export class NatsSubjectServer extends ServerNats {
  protected override getRouteFromPattern(pattern: string): string {
    const first = pattern.charCodeAt(0);
    // '{', '[' or '"' could start a JSON pattern; anything else is a plain subject.
    if (first === 0x7b || first === 0x5b || first === 0x22) return super.getRouteFromPattern(pattern);
    return this.normalizePattern(pattern);
  }
}

import { Injectable } from '@nestjs/common';
import { liveConsumers } from '@turnpike/kafka';

export type ReadinessCheck = () => boolean | string;

/**
 * Liveness and readiness of one service. Components register named checks; a check returns
 * true when ready, or a string saying what it waits for. Draining makes the service unready
 * at once, so load balancers stop sending work while in-flight work finishes.
 */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  report(): { ready: boolean; checks: Record<string, true | string> } {
    const checks: Record<string, true | string> = {};
    let ready = !this.draining;
    if (this.draining) checks['draining'] = 'shutting down';
    for (const [name, check] of this.checks) {
      let r: boolean | string;
      try {
        r = check();
      } catch (e) {
        r = (e as Error).message;
      }
      checks[name] = r === true ? true : r === false ? 'not ready' : r;
      if (r !== true) ready = false;
    }
    // Every Kafka consumer of the process, whoever started it: one that crashed (and is
    // restarting) or stopped fetching makes the service unready until it runs again.
    for (const c of liveConsumers()) {
      const r = c.status();
      if (r === true) continue;
      checks[`consumer ${c.groupId}`] = r;
      ready = false;
    }
    return { ready, checks };
  }
}

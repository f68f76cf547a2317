import { RestAdapterError } from './rest-adapter-error.ts';

/** Circuit breaker settings, per API host. Defaults in brackets. */
export interface CircuitBreakerOptions {
  /** Consecutive failures (network errors, timeouts, HTTP 5xx) that open the circuit [5]. */
  failureThreshold?: number;
  /** How long an open circuit fails calls fast before it lets one trial call through [30000]. */
  coolDownMs?: number;
}

/** The state of one host's circuit. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One breaker per API host (`host:port`), shared by every tool of an upstream. */
export interface CircuitBreakers {
  /**
   * Admits a request to `host` or throws `RestAdapterError` (`circuit-open`) naming the host. After the cool-down,
   * one trial request is admitted (half-open); others keep failing fast until it ends.
   */
  admit(host: string): void;
  /**
   * Records how an admitted request to `host` ended: `failure` means network error, timeout or HTTP 5xx;
   * `cancelled` (the caller gave up) counts neither way but ends a trial.
   */
  record(host: string, outcome: 'success' | 'failure' | 'cancelled'): void;
  state(host: string): CircuitState;
}

interface HostCircuit {
  failures: number;
  openedAt?: number;
  trialInFlight: boolean;
}

/** Creates {@link CircuitBreakers}. `now` (milliseconds since the epoch) drives the cool-down [Date.now]. */
export function createCircuitBreakers(
  options: CircuitBreakerOptions = {},
  now: () => number = Date.now,
): CircuitBreakers {
  const failureThreshold = options.failureThreshold ?? 5;
  const coolDownMs = options.coolDownMs ?? 30_000;
  const circuits = new Map<string, HostCircuit>();
  const circuitOf = (host: string) => {
    let circuit = circuits.get(host);
    if (!circuit) {
      circuit = { failures: 0, trialInFlight: false };
      circuits.set(host, circuit);
    }
    return circuit;
  };
  const stateOf = (circuit: HostCircuit | undefined): CircuitState => {
    if (circuit?.openedAt === undefined) return 'closed';
    return now() - circuit.openedAt >= coolDownMs ? 'half-open' : 'open';
  };

  return {
    state: (host) => stateOf(circuits.get(host)),
    admit(host) {
      const circuit = circuits.get(host);
      const state = stateOf(circuit);
      if (state === 'closed' || !circuit) return;
      if (state === 'half-open' && !circuit.trialInFlight) {
        circuit.trialInFlight = true;
        return;
      }
      const retryInMs = Math.max(0, (circuit.openedAt ?? 0) + coolDownMs - now());
      throw new RestAdapterError(
        'circuit-open',
        `circuit open for ${host}: ${circuit.failures} consecutive failures; calls to it fail fast ` +
          (state === 'half-open'
            ? 'while a trial call is under way'
            : `for another ${Math.ceil(retryInMs / 1000)} s`),
      );
    },
    record(host, outcome) {
      const circuit = circuitOf(host);
      const wasTrial = circuit.trialInFlight;
      circuit.trialInFlight = false;
      if (outcome === 'cancelled') return;
      if (outcome === 'success') {
        circuit.failures = 0;
        circuit.openedAt = undefined;
        return;
      }
      circuit.failures += 1;
      if (wasTrial || circuit.failures >= failureThreshold) circuit.openedAt = now();
    },
  };
}

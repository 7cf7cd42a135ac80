import type { Scenario } from '../scenario.ts';
import { callbackLatency } from './callback-latency.ts';
import { caps } from './caps.ts';
import { cluster } from './cluster.ts';
import { governor } from './governor.ts';
import { inflight } from './inflight.ts';
import { parkedMemory } from './parked-memory.ts';
import { pipeline } from './pipeline.ts';
import { quote } from './quote.ts';
import { redisCost } from './redis-cost.ts';
import { scaling } from './scaling.ts';
import { vsNaive } from './vs-naive.ts';

// Every scenario `pnpm bench <name>` can run, in the order `pnpm bench all` runs them. Add a scenario:
// one file in this folder exporting a Scenario, and one line here.
export const SCENARIOS: readonly Scenario[] = [
  pipeline,
  inflight,
  callbackLatency,
  vsNaive,
  redisCost,
  governor,
  caps,
  scaling,
  parkedMemory,
  quote,
  cluster,
];

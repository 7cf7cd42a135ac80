import type { Scenario } from '../scenario.ts';
import { governor } from './governor.ts';
import { parkedMemory } from './parked-memory.ts';
import { scaling } from './scaling.ts';

// Every scenario `pnpm bench <name>` can run, in the order `pnpm bench all` runs them. Add a scenario:
// one file in this folder exporting a Scenario, and one line here.
export const SCENARIOS: readonly Scenario[] = [scaling, parkedMemory, governor];

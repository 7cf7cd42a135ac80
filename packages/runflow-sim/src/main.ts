import { parseSimEnv } from './env.ts';
import { startSim } from './start-sim.ts';

// `pnpm sim`: the simulator as a standalone process, configured from SIM_* variables (see env.ts).

let options: ReturnType<typeof parseSimEnv>;
try {
  options = parseSimEnv(process.env);
} catch (error) {
  console.error(`runflow-sim: ${(error as Error).message}`);
  process.exit(1);
}

const sim = await startSim(options);
console.log(`runflow-sim listening on ${sim.url} (API key: ${sim.apiKey})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`runflow-sim: ${signal}, closing`);
  await sim.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

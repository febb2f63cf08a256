/**
 * Runs the fake upstream as a process, for benchmarks and manual use:
 * `tsx packages/fake-upstream/src/cli.ts --port 4010 --tokens 20 --delay-ms 5`.
 * The first line on stdout is the base URL.
 */
import { cliUsage, parseCliOptions, type CliCommand } from "./cli-options";
import { startFakeUpstream } from "./fake-upstream";

let command: CliCommand;
try {
  command = parseCliOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${cliUsage}\n`);
  process.exit(2);
}

if (command.kind === "help") {
  process.stdout.write(`${cliUsage}\n`);
} else {
  const fake = await startFakeUpstream(command.options);
  process.stdout.write(`${fake.url}\n`);
  process.stdout.write(`  anthropic baseURL: ${fake.url}   openai baseURL: ${fake.openaiBaseUrl}   api key: ${command.options.apiKey === null ? "(any)" : [command.options.apiKey].flat().join(", ")}\n`);
  const stop = (): void => {
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

import { Command } from 'commander';

/** Every subcommand registers itself here; each lives in its own module under bin/commands/. */
export function registerCommands(program: Command): void {
  void program;
}

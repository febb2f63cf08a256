import { parseMagicToken } from "./magic-tokens";
import type { ModelRequest } from "./model-request";
import { planTurn, type PlannedReply, type TurnDefaults } from "./plan-turn";
import type { ScriptedResponse } from "./scripted-response";

/** Picks a reply for a request that is not scripted; return undefined to use the default echo. */
export type RespondFunction = (request: ModelRequest) => ScriptedResponse | undefined;

/** Mutable responder settings; `reset()` restores the ones given at start. */
export interface ResponderSettings extends TurnDefaults {
  respond: RespondFunction | undefined;
}

/** Decides each model request's reply: magic token, then the queue, then `respond`, then the default echo. */
export class Responder {
  readonly queue: ScriptedResponse[] = [];
  #settings: ResponderSettings;
  readonly #initial: ResponderSettings;
  readonly #magicUses = new Map<string, number>();

  constructor(settings: ResponderSettings) {
    this.#initial = { ...settings };
    this.#settings = { ...settings };
  }

  /** Changes the defaults for later requests. */
  configure(settings: Partial<ResponderSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
  }

  /** Empties the queue, forgets magic-token counts and restores the start-up settings. */
  reset(): void {
    this.queue.length = 0;
    this.#magicUses.clear();
    this.#settings = { ...this.#initial };
  }

  /** Consumes and plans the reply for one model request. */
  next(request: ModelRequest): PlannedReply {
    return planTurn(this.#pick(request), request, this.#settings);
  }

  #pick(request: ModelRequest): ScriptedResponse | undefined {
    const magic = parseMagicToken(request.lastUserText);
    if (magic) {
      const used = this.#magicUses.get(request.lastUserText) ?? 0;
      if (magic.times === undefined) return magic.script;
      if (used < magic.times) {
        this.#magicUses.set(request.lastUserText, used + 1);
        return magic.script;
      }
    }
    return this.queue.shift() ?? this.#settings.respond?.(request);
  }
}

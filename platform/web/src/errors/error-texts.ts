import type { ErrorCode } from "@workforce/protocol";

/** What a person reads for one error code: what happened, and the one thing to do about it. */
export interface ErrorText {
  /** What happened, in words a user understands (no codes, field paths or numbers from the server). */
  sentence: string;
  /** The one next step. */
  next: string;
  /** Whether doing the same again can work; the server's own `retryable` flag wins when it sends one. */
  retry: boolean;
}

const text = (sentence: string, next: string, retry = false): ErrorText => ({ sentence, next, retry });

const AGAIN_SHORTLY = "Try again in a moment.";
const ASK_OPERATOR = "If it keeps happening, tell whoever runs this installation.";
const RELOAD = "Reload the page and try again.";

/**
 * Every code of `ERROR_CODES`, typed so that a code added there without a sentence here fails the
 * typecheck (`satisfies` a Record over the union). The server's own message stays in "Details".
 */
export const ERROR_TEXTS = {
  // request shape
  validation_failed: text("Some of what you entered is not valid.", "Check the highlighted fields and try again."),
  invalid_json: text("The app sent a request the server could not read.", RELOAD),
  payload_too_large: text("That is too large to send in one go.", "Make it shorter, or split it into parts."),
  not_found: text("We could not find what you were looking for.", "It may have been deleted; go back and pick it again."),
  conflict: text("Someone changed this at the same time.", RELOAD, true),
  method_not_allowed: text("The app asked the server for something it does not offer.", RELOAD),
  // auth
  unauthorized: text("You are not signed in.", "Sign in again."),
  invalid_token: text("Your sign-in is no longer valid.", "Sign in again."),
  token_expired: text("Your sign-in has expired.", "Sign in again."),
  forbidden: text("You do not have permission to do that.", "Ask an owner or admin of the organisation."),
  invalid_credentials: text("Wrong email or password.", "Check both and try again, or reset your password."),
  email_taken: text("An account with this email address already exists.", "Sign in instead, or reset your password."),
  weak_password: text("That password is too weak.", "Choose a longer password that is hard to guess."),
  rate_limited: text("Too many attempts in a short time.", AGAIN_SHORTLY, true),
  email_not_confirmed: text("Your email address is not confirmed yet.", "Open the link we emailed you, or ask for a new one."),
  signup_disabled: text("Sign-up is closed on this installation.", "Ask an owner of an organisation for an invitation."),
  otp_expired: text("This link or code has expired or was already used.", "Ask for a new one."),
  reauthentication_needed: text("We need to check it is really you.", "Enter the code we emailed you."),
  same_password: text("That is already your password.", "Choose a different one."),
  session_expired: text("You were signed out.", "Sign in again."),
  tenant_suspended: text("This organisation is suspended.", "Contact whoever runs this installation."),
  // tenancy and paths
  tenant_required: text("No organisation is selected.", "Pick an organisation in the top bar."),
  invalid_tenant_id: text("That organisation does not exist.", "Pick an organisation in the top bar."),
  invalid_slug: text("That name cannot be used as an address.", "Use letters, digits and hyphens."),
  invalid_session_key: text("That chat address is not valid.", "Open the chat from the list instead."),
  invalid_path: text("That file name is not allowed.", "Use a simple name without special characters."),
  path_escape: text("That file is outside the agent's workspace.", "Use a file inside the workspace."),
  // agents and sessions
  agent_not_found: text("This agent does not exist (any more).", "Go back to the agents and pick another one."),
  agent_exists: text("An agent with this name already exists.", "Choose another name."),
  agent_identity_missing: text("This agent's profile is missing.", "Edit the agent and save it again."),
  session_not_found: text("This chat does not exist (any more).", "Start a new chat, or pick one from the list."),
  run_not_found: text("This reply is no longer available.", "Reload the chat to see what was saved."),
  run_interrupted: text("The reply was cut off because the server running it stopped.", "Retry to ask again.", true),
  queue_full: text("This agent has too many messages waiting.", AGAIN_SHORTLY, true),
  run_timeout: text("The reply took too long and was stopped.", "Retry, or ask for something smaller.", true),
  too_many_runs: text("Too many replies are running at once.", AGAIN_SHORTLY, true),
  budget_exceeded: text("Your organisation has used up its token budget.", "Ask an owner or admin to raise the budget."),
  tenant_queue_full: text("Your organisation has too many messages waiting.", AGAIN_SHORTLY, true),
  // tool approvals
  approval_pending: text("The agent is waiting for a tool call to be approved.", "Approve or deny it first."),
  approval_not_pending: text("This approval was already handled.", "Reload to see the decision."),
  approval_not_found: text("This approval no longer exists.", "Reload to see the current approvals."),
  approval_already_decided: text("Someone else already decided this approval.", "Reload to see the decision."),
  // storage
  storage_unavailable: text("The agents' storage is not available right now.", AGAIN_SHORTLY, true),
  storage_read_only: text("The agents' storage is read-only right now.", ASK_OPERATOR, true),
  storage_full: text("The server's storage is full.", ASK_OPERATOR),
  tenant_quota_exceeded: text("Your organisation has used all of its disk space.", "Delete old chats or files, or ask for more space."),
  // backup and restore
  tenant_exists: text("This organisation already exists here.", "Restore it under another name, or delete the existing one first."),
  backup_invalid: text("That backup file cannot be read.", "Check that it is a complete Workforce backup."),
  // tenant secrets
  secret_unreadable: text("A stored secret can no longer be read.", "Enter the key or token again."),
  // providers
  provider_rate_limited: text("The AI provider is busy with too many requests.", AGAIN_SHORTLY, true),
  provider_overloaded: text("The AI provider is overloaded.", AGAIN_SHORTLY, true),
  provider_auth_failed: text("The AI provider refused the API key.", "Check the model key under Integrations."),
  provider_unreachable: text("The AI provider could not be reached.", AGAIN_SHORTLY, true),
  provider_error: text("The AI provider answered with an error.", AGAIN_SHORTLY, true),
  // MCP servers
  mcp_unavailable: text("A connected tool server could not be reached.", "Check the server under Integrations, then try again.", true),
  mcp_auth_required: text("A connected tool server needs you to sign in again.", "Reconnect it under Integrations."),
  mcp_protocol_error: text("A connected tool server answered something we do not understand.", "Check its address under Integrations."),
  mcp_tool_error: text("A tool reported an error.", "Try again, or check the tool's settings.", true),
  mcp_tool_timeout: text("A tool did not answer in time.", AGAIN_SHORTLY, true),
  mcp_result_too_large: text("A tool sent back more than we can read.", "Ask for something smaller."),
  model_key_required: text("This organisation needs its own model key.", "Add one under Integrations."),
  outbound_blocked: text("That address is not allowed from this installation.", "Use a public address."),
  // outbound webhooks
  webhook_not_found: text("This webhook no longer exists.", "Reload the list."),
  webhook_delivery_not_found: text("This delivery no longer exists.", "Reload the delivery log."),
  webhook_limit_reached: text("Your organisation has as many webhooks as it may.", "Delete one you no longer need first."),
  webhook_url_not_https: text("Webhook addresses must start with https://.", "Use an https:// address."),
  webhook_disabled: text("This webhook is turned off.", "Turn it on first."),
  webhook_delivery_in_progress: text("This delivery is being sent right now.", AGAIN_SHORTLY, true),
  // MCP servers and tool grants
  mcp_server_not_found: text("This tool server no longer exists.", "Reload the list."),
  mcp_namespace_taken: text("Another tool server already uses this name.", "Choose another name."),
  mcp_unknown_tool: text("That tool does not exist on this server.", "Pick a tool from the list."),
  mcp_oauth_failed: text("Signing in to the tool server failed.", "Try connecting again."),
  secrets_unavailable: text("This installation cannot store secrets yet.", ASK_OPERATOR),
  // web tools
  web_robots_disallowed: text("That website does not allow agents to read it.", "Try another source."),
  web_unsupported_content: text("That page is not text the agent can read.", "Try a web page instead."),
  web_fetch_failed: text("That website could not be read.", AGAIN_SHORTLY, true),
  web_timeout: text("That website took too long to answer.", AGAIN_SHORTLY, true),
  web_search_failed: text("The web search failed.", AGAIN_SHORTLY, true),
  // services
  gateway_unavailable: text("Agents are not reachable right now.", "Chats come back by themselves as soon as they are; team, API keys and usage still work.", true),
  gateway_error: text("The agent service answered with an error.", ASK_OPERATOR, true),
  database_unavailable: text("The database is not reachable right now.", AGAIN_SHORTLY, true),
  data_dir_mismatch: text("The server is misconfigured.", ASK_OPERATOR),
  mail_unavailable: text("We could not send the email just now.", AGAIN_SHORTLY, true),
  // Composio
  composio_not_configured: text("App integrations are not set up on this installation.", ASK_OPERATOR),
  composio_unavailable: text("The app integration service could not be reached.", AGAIN_SHORTLY, true),
  composio_auth_failed: text("The app integration service refused this installation's key.", ASK_OPERATOR),
  composio_unknown_toolkit: text("That app is not available.", "Pick an app from the list."),
  composio_tool_failed: text("The app reported an error.", "Try again, or check the app's connection.", true),
  composio_tool_timeout: text("The app did not answer in time.", AGAIN_SHORTLY, true),
  composio_result_too_large: text("The app sent back more than we can read.", "Ask for something smaller."),
  // schedules
  invalid_schedule: text("That schedule cannot run.", "Check the time, the repeat and the time zone."),
  schedule_not_found: text("This schedule no longer exists.", "Reload the list."),
  schedule_limit_reached: text("This agent has as many schedules as it may.", "Delete one you no longer need first."),
  internal_error: text("Something went wrong on our side.", AGAIN_SHORTLY, true),
} as const satisfies Record<ErrorCode, ErrorText>;

/** Codes the web app itself makes (a failed fetch, a lost stream, an HTTP answer without our error shape). */
export const CLIENT_ERROR_TEXTS = {
  network_error: text("We could not reach the server.", "Check your connection; we will try again.", true),
  stream_lost: text("The connection to the reply was lost.", "Retry to ask again.", true),
  aborted: text("You stopped this reply.", "Retry to ask again.", true),
  resume_pending: text("The agent has not carried on yet.", "Reload in a moment to see its answer."),
  client_error: text("Something went wrong in this page.", RELOAD, true),
  http_4xx: text("The server refused the request.", RELOAD),
  http_5xx: text("The server could not answer just now.", AGAIN_SHORTLY, true),
} as const satisfies Record<string, ErrorText>;

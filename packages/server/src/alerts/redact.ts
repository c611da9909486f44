/** How the API shows the secret parts of notification targets (rules and deliveries alike). */
export const REDACTED = '[redacted]';

/** Slack incoming-webhook URLs are secrets themselves: show the origin only. */
export function redactSlackUrl(url: string): string {
  try {
    return `${new URL(url).origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** A webhook URL with a password in its user-info (`https://user:pass@host/…`) shows the password redacted. */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = REDACTED;
    return u.toString();
  } catch {
    return url;
  }
}

/** Whether a webhook URL carries the redacted password (as returned by `redactWebhookUrl`). */
export function isRedactedWebhookUrl(url: string): boolean {
  try {
    return decodeURIComponent(new URL(url).password) === REDACTED;
  } catch {
    return false;
  }
}

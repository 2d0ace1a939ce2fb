/**
 * Secret redaction, applied to every log text before it leaves for a model, a topic, the data lake, a
 * terminal or a log. Build logs are full of credentials by accident (echoed environments, verbose HTTP
 * clients, failed `git clone https://user:token@...`, `mysql -pSECRET`); a model request is the last place
 * they should travel to.
 *
 * The rules follow the public rule sets of gitleaks (`config/gitleaks.toml`) and trufflehog (detectors):
 * tokens with a known prefix or shape first, then credentials in their context (connection strings,
 * signed URLs, Authorization headers, cookies, URL user-info, command-line password flags), then values
 * assigned to secret-like names. `test/fixtures/secrets/corpus.ts` holds the formats and the near misses
 * that must survive; `bench/redaction.ts` measures both.
 *
 * Redaction keeps the line structure: no rule matches across a line break, and a redacted private key
 * still occupies its lines, so line numbers chosen by the excerpt selector stay valid. The whole of a
 * 20 MB log is redacted before anything reads it, so every pattern is linear (bounded repetitions, no
 * nested quantifiers, a literal first where possible) and the output is written once (docs/redaction.md
 * has the figures).
 */

export type SecretKind =
  | 'aws-access-key-id'
  | 'aws-session-token'
  | 'private-key'
  | 'jwt'
  | 'known-token'
  | 'webhook-url'
  | 'connection-string-key'
  | 'url-signature'
  | 'bearer-token'
  | 'url-password'
  | 'cli-password'
  | 'cookie'
  | 'assigned-password'
  | 'assigned-secret';

export interface RedactionResult {
  readonly text: string;
  /** How many secrets of each kind were replaced. */
  readonly counts: Partial<Record<SecretKind, number>>;
  readonly total: number;
}

const MARKER_PREFIX = '[REDACTED';
const mask = (kind: SecretKind): string => `${MARKER_PREFIX}:${kind}]`;

interface Rule {
  readonly kind: SecretKind;
  /**
   * A literal every match contains, for a pattern that cannot start with one: the rule is skipped when
   * the text lacks it, instead of trying the pattern at every position.
   */
  readonly literal?: string;
  /**
   * Global pattern. The named group `secret` is replaced (the whole match without one); the named group
   * `pre`, when present, is everything the match holds before `secret`.
   */
  readonly pattern: RegExp;
  /** Whether a matched secret is one (default: any value that is not a placeholder). */
  readonly accept?: (secret: string) => boolean;
}

const B64 = 'A-Za-z0-9+/';
const URLSAFE = 'A-Za-z0-9_-';

/**
 * Tokens whose prefix names them (gitleaks / trufflehog rules), each starting with `\b` and a literal:
 * joined into one alternation, the engine rejects most positions on their first character.
 */
const KNOWN_TOKENS: readonly string[] = [
  String.raw`\bgh[pousr]_[A-Za-z0-9]{30,255}\b`,
  String.raw`\bgithub_pat_\w{40,255}`,
  String.raw`\bgl(?:pat|rt|ptt|dt|ft|soat|cbt|imt|oas|agent)-[\w-]{20,255}`,
  String.raw`\bxox[abposre]-[A-Za-z0-9-]{10,255}`,
  String.raw`\bxapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-f0-9]{32,80}`,
  String.raw`\bnpm_[A-Za-z0-9]{36}\b`,
  // OpenAI (`sk-`, `sk-proj-`), Anthropic (`sk-ant-api03-`) and compatible APIs.
  String.raw`\bsk-[\w-]{32,255}`,
  String.raw`\bAIza[${URLSAFE}]{35}`,
  String.raw`\bGOCSPX-[${URLSAFE}]{28}`,
  String.raw`\bya29\.[${URLSAFE}]{20,2048}`,
  String.raw`\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{10,255}`,
  String.raw`\bwhsec_[A-Za-z0-9+/=]{24,128}`,
  String.raw`\bSG\.[${URLSAFE}]{22}\.[${URLSAFE}]{43}`,
  String.raw`\bSK[0-9a-fA-F]{32}\b`,
  String.raw`\bkey-[0-9a-f]{32}\b`,
  String.raw`\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b`,
  String.raw`\bpypi-AgEIcHlwaS5vcmc[${URLSAFE}]{50,1024}`,
  String.raw`\bdckr_pat_[${URLSAFE}]{27,128}`,
  String.raw`\boy2[a-z0-9]{43}\b`,
  String.raw`\bAKCp[A-Za-z0-9]{60,128}`,
  String.raw`\brubygems_[a-f0-9]{48}\b`,
  String.raw`\bHRKU-[${URLSAFE}]{40,128}`,
  String.raw`\bNRAK-[A-Z0-9]{27}\b`,
  String.raw`\bsntr[ysu]_[A-Za-z0-9+/=_]{40,512}`,
  String.raw`\bglsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}\b`,
  String.raw`\bglc_[A-Za-z0-9+/]{32,400}={0,2}`,
  String.raw`\bdo[por]_v1_[a-f0-9]{64}\b`,
  String.raw`\bhv[sbr]\.[${URLSAFE}]{24,512}`,
  String.raw`\bdapi[a-f0-9]{32}(?:-\d)?\b`,
  String.raw`\bATATT3[A-Za-z0-9_=-]{100,512}`,
  String.raw`\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`,
  String.raw`\bsq[pua]_[a-f0-9]{40}\b`,
  String.raw`\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b`,
  String.raw`\bhf_[A-Za-z]{34}\b`,
  String.raw`\blin_api_[A-Za-z0-9]{40}\b`,
  String.raw`\bpul-[a-f0-9]{40}\b`,
  String.raw`\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,64}`,
  String.raw`\bbkua_[a-f0-9]{40}\b`,
  String.raw`\bATBB[A-Za-z0-9_=.-]{28,64}`,
];

const RULES: readonly Rule[] = [
  {
    kind: 'aws-access-key-id',
    pattern: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
  },
  {
    // STS session tokens start with these base64 prefixes and run for hundreds of characters.
    kind: 'aws-session-token',
    pattern: new RegExp(
      String.raw`\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu|FQoGZXIvYXdz|AQoDYXdz)[${B64}=%]{20,4096}`,
      'g',
    ),
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[\w-]{8,4096}\.eyJ[\w-]{8,8192}(?:\.[\w-]{0,2048})?/g,
  },
  {
    // One pattern for all of them: a pass over the text per token format would dominate the run time.
    // Every alternative starts with a literal after `\b`; a pattern starting with a look-behind or a
    // character class would be tried in full at every position of the text (five times slower).
    kind: 'known-token',
    pattern: new RegExp(
      String.raw`\b(?:${KNOWN_TOKENS.map((pattern) => pattern.replace(/^\\b/, '')).join('|')})`,
      'g',
    ),
  },
  {
    // Terraform Cloud / Enterprise tokens: 14 characters, `.atlasv1.`, 60-90 more.
    kind: 'known-token',
    literal: '.atlasv1.',
    pattern: /\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9=_-]{60,90}/g,
  },
  {
    // Azure AD (Entra) client secrets: three characters, a digit, `Q~`, then 31-34 more.
    kind: 'known-token',
    literal: 'Q~',
    pattern: /(?<![\w~.-])[\w~.]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])/g,
  },
  {
    // Telegram bot tokens, also inside `https://api.telegram.org/bot<token>/`.
    kind: 'known-token',
    pattern: new RegExp(
      String.raw`(?<pre>:(?<=(?<!\d)\d{8,10}:))(?<secret>AA[${URLSAFE}]{33})(?![\w-])`,
      'g',
    ),
  },
  {
    kind: 'webhook-url',
    pattern:
      /(?<pre>\bhooks\.slack\.com\/(?:services|workflows|triggers)\/|\bdiscord(?:app)?\.com\/api\/webhooks\/\d{1,24}\/|\.webhook\.office\.com\/webhookb2\/)(?<secret>[\w@./+-]{20,512})/gi,
  },
  {
    // Azure storage / service bus / event hub connection strings.
    kind: 'connection-string-key',
    pattern: new RegExp(
      String.raw`(?<pre>\b(?:AccountKey|SharedAccessKey|SharedSecretValue)[ \t]*=[ \t]*)(?<secret>[${B64}]{16,1024}={0,3})`,
      'gi',
    ),
  },
  {
    // Signed URLs and SAS tokens: Azure `sig=`, S3 and GCS presigned URLs, OAuth tokens in URLs. (Other
    // parameters, `password=` among them, are assignments to secret-like names: see below.)
    kind: 'url-signature',
    pattern:
      /(?<pre>[?&#;](?:sig|signature|x-amz-signature|x-amz-security-token|x-goog-signature|access_token|id_token|refresh_token|token|client_secret)=)(?<secret>[^&\s"'#;<>]{8,4096})/gi,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    // The credential of an Authorization header, after its scheme (Bearer, Basic, token, AWS4-HMAC-...).
    kind: 'bearer-token',
    pattern: new RegExp(
      String.raw`(?<pre>\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|bot|digest|negotiate|ntlm|sso-key|apikey)[ \t]+)?)(?<secret>[A-Za-z0-9._~+/-]{8,8192}=*)`,
      'gi',
    ),
  },
  {
    // `Bearer <token>` outside a header: only a generated-looking value ("Bearer authentication" is prose).
    kind: 'bearer-token',
    pattern: /(?<pre>\b(?:Bearer|Basic|bearer)[ \t]+)(?<secret>[A-Za-z0-9._~+/-]{16,8192}=*)/g,
    accept: looksGenerated,
  },
  {
    // `scheme://user:password@host`, also without a user (`redis://:password@host`). Anchored on the
    // `://` (a literal the engine finds fast) rather than on the scheme.
    kind: 'url-password',
    pattern: /(?<pre>:\/\/[^\s:/@'"`]{0,256}:)(?<secret>[^\s/@'"`]{1,512})@/g,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    kind: 'cli-password',
    // `-p` glued to its value; `-P` is the port, and `-p` alone prompts.
    pattern:
      /(?<pre>\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlslap|mariadb(?:-dump|-admin)?)\b[^\r\n]{0,1024}?[ \t]-p)(?<secret>[^\s]{1,512})/g,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    kind: 'cli-password',
    pattern:
      /(?<pre>login(?<=\b(?:docker|podman|buildah|skopeo|nerdctl|oras|crane|helm|regctl|registry)[ \t]+login)\b[^\r\n]{0,1024}?[ \t]-p(?:[ \t]+|=))(?<secret>[^\s]{1,512})/g,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    kind: 'cli-password',
    pattern: /(?<pre>\bsshpass\b[^\r\n]{0,256}?[ \t]-p[ \t]*)(?<secret>[^\s]{1,512})/g,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    // curl / wget `-u user:password`, `--user user:password`, `--proxy-user user:password`.
    kind: 'cli-password',
    pattern:
      /(?<pre>-(?<=(?:^|[ \t])-)(?:u|-user|-proxy-user)(?:[ \t]+|=)["']?[^\s:"'$]{1,256}:)(?<secret>[^\s"']{1,512})/gm,
    accept: (secret) => !isPlaceholder(secret),
  },
  {
    // OpenSSL pass phrases: `-passin pass:SECRET`.
    kind: 'cli-password',
    pattern: /(?<pre>-pass(?:in|out|word)?[ \t]+["']?pass:)(?<secret>[^\s"']{1,512})/g,
    accept: (secret) => !isPlaceholder(secret),
  },
];

/**
 * Names that hold a secret in `name=value`, `name: value`, `"name": "value"`, `--name value` and
 * `name = value`. Matched on the keyword, and the whole name (its characters before and after the
 * keyword) decides how strictly the value is judged.
 */
const NAME_KEYWORD =
  /(?:password|passwd|passphrase|pwd|storepass|keypass|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?key|app[_-]?key|token|credential|auth|session|signature|cookie)[\w.-]{0,128}?(?<sep>["']?(?:[ \t]*(?:=>|:=|=)[ \t]*|:[ \t]*|[ \t]+))(?:(?<quote>["'])(?<quoted>[^"'\r\n]{1,1024})\k<quote>|(?<bare>[^\s"'`,;&{}()[\]<>]{1,1024}))/gi;

const PASSWORD_NAME = /password|passwd|passphrase|pwd|storepass|keypass/i;
const SECRET_NAME = /secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?key|app[_-]?key/i;
/** Name endings that hold an identifier, a reference or a setting, not the secret itself. */
const REFERENCE_SUFFIX =
  /(?:[._-](?:ids?|names?|arns?|files?|stdin|env|length|len|min|max|url|uri|endpoint|path|dir|type|version|ttl|expiry|expires|expiration|count|policy|prompt|manager|rotation|enabled|required|ref|kind|mode|format|size|timeout|store|provider|header|field|hash[-_]?algorithm|strategy|location|pattern)|(?<=[a-z])(?:Ids?|Names?|Arns?|Files?|Url|Uri|Endpoint|Path|Type|Version|Length|Policy|Prompt|Provider|Header|Field|Location)|smanager)$/;
/** Tokens that page, order or deduplicate API calls, and session *names*: not credentials. */
const NON_CREDENTIAL_NAME =
  /(?:next|page|continuation|client[-_]?request|client|idempotency|request|cancel(?:lation)?|resume|sync|pagination|starting|marker|csrf[-_]?param)[-_.]?token|^(?:--?)?(?:auth|author|authors|authority|session)$|tokeni[sz]er|security[-_]?token[-_]?(?:invalid|expired)/i;
const SESSION_NAME = /sess(?:ion)?[-_]?id|sessid|^(?:--?)?sid$/i;
/** PascalCase names of three words or more: classes, migrations, tests, not configuration keys. */
const IDENTIFIER_NAME = /^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*){2,}$/;

/** Claims the values assigned to secret-like names. */
function findAssignments(text: string, spans: SpanCollector): void {
  NAME_KEYWORD.lastIndex = 0;
  for (let match = NAME_KEYWORD.exec(text); match; match = NAME_KEYWORD.exec(text)) {
    const groups = match.groups as { sep: string; quote?: string; quoted?: string; bare?: string };
    const value = groups.quoted ?? groups.bare ?? '';
    const keywordEnd =
      match.index + match[0].length - groups.sep.length - value.length - (groups.quote ? 2 : 0);
    let nameStart = match.index;
    while (nameStart > 0 && /[\w.-]/.test(text[nameStart - 1]!)) nameStart -= 1;
    // A quote right before the name (JSON, YAML, HCL keys).
    const quotedName = nameStart > 0 && /["']/.test(text[nameStart - 1]!);
    const name = text.slice(nameStart, keywordEnd);
    const kind = judgeAssignment(text, nameStart, name, groups.sep, quotedName, value);
    if (!kind) {
      // Resume right after the keyword: the rejected value may itself name the next secret.
      NAME_KEYWORD.lastIndex = match.index + 1;
      continue;
    }
    const valueStart = match.index + match[0].length - value.length - (groups.quote ? 1 : 0);
    spans.claim(valueStart, valueStart + value.length, kind);
  }
}

function judgeAssignment(
  text: string,
  nameStart: number,
  name: string,
  sep: string,
  quotedName: boolean,
  value: string,
): SecretKind | undefined {
  const bareSep = sep.replace(/["']/g, '');
  if (/^:$/.test(bareSep) && !quotedName && !/^["']/.test(sep)) {
    // `name:value` without a space is an ARN, a path with a line number or an IAM action, not YAML.
    return undefined;
  }
  if (/^[ \t]+$/.test(bareSep) && !isFlagContext(text, nameStart, name)) return undefined;
  // `$NAME`, `${NAME}`, `%NAME%`: a reference to a variable, not an assignment to it.
  if (/[$%]\{?$/.test(text.slice(Math.max(0, nameStart - 2), nameStart))) return undefined;
  if (REFERENCE_SUFFIX.test(name) && !SESSION_NAME.test(name)) return undefined;
  // `AddEmailHashedPasswordToUsers: migrating`: a class, migration or test name, then a word of prose.
  if (!quotedName && /^:/.test(bareSep) && IDENTIFIER_NAME.test(name) && /^[a-z]+$/.test(value))
    return undefined;
  if (NON_CREDENTIAL_NAME.test(name)) return undefined;
  if (isPlaceholder(value) || isReference(value)) return undefined;
  if (PASSWORD_NAME.test(name)) return value.length >= 3 ? 'assigned-password' : undefined;
  // Keys and tokens hold no spaces: `"sessionUserAgents": "Mozilla/5.0 (Macintosh; ...)"` is prose.
  if (/\s/.test(value)) return undefined;
  if (SECRET_NAME.test(name)) return value.length >= 8 ? 'assigned-secret' : undefined;
  return looksGenerated(value) ? 'assigned-secret' : undefined;
}

/** `--name value`, `-name value`, `.netrc`'s `login x password y`, `aws configure set name value`. */
function isFlagContext(text: string, nameStart: number, name: string): boolean {
  if (name.startsWith('-')) return true;
  const before = text.slice(Math.max(0, nameStart - 200), nameStart);
  return /\blogin[ \t]+\S+[ \t]+$|\b(?:configure[ \t]+set|config[ \t]+set|config)[ \t]+$/.test(before);
}

const COOKIE_HEADER = /\b(?:set-)?cookie[ \t]*:[ \t]*(?<pairs>[^\r\n]{1,16384})/gi;
const COOKIE_PAIR = /(?<pre>(?:^|;)[ \t]*(?<name>[^=;\s]{1,128})=)(?<value>[^;\r\n]*)/g;
/** `Set-Cookie` attributes: the cookie is the first pair, the rest describe it. */
const COOKIE_ATTRIBUTE =
  /^(?:path|domain|expires|max-age|samesite|secure|httponly|priority|partitioned|version|comment)$/i;

/** Claims the values of the cookies of `Cookie:` and `Set-Cookie:` headers, keeping their names. */
function findCookies(text: string, spans: SpanCollector): void {
  COOKIE_HEADER.lastIndex = 0;
  for (let header = COOKIE_HEADER.exec(text); header; header = COOKIE_HEADER.exec(text)) {
    const { pairs } = header.groups as { pairs: string };
    const pairsStart = header.index + header[0].length - pairs.length;
    COOKIE_PAIR.lastIndex = 0;
    for (let pair = COOKIE_PAIR.exec(pairs); pair; pair = COOKIE_PAIR.exec(pairs)) {
      const { pre, name, value } = pair.groups as { pre: string; name: string; value: string };
      const bare = value.trim();
      if (COOKIE_ATTRIBUTE.test(name) || bare.length < 8 || isPlaceholder(bare)) continue;
      const start = pairsStart + pair.index + pre.length;
      spans.claim(start, start + value.length, 'cookie');
    }
  }
}

/** Shannon entropy of `value` in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A value that looks generated (a key or token) rather than a word, a path or a placeholder. */
function looksGenerated(value: string): boolean {
  if (value.length < 16 || isPlaceholder(value) || isReference(value) || !/\d/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
  return classes >= 2 && shannonEntropy(value) >= 3;
}

/** Not a value but a reference to one: `$VAR`, `${VAR}`, `${{ secrets.X }}`, `****`, `<token>`, `%VAR%`. */
function isPlaceholder(value: string): boolean {
  const bare = value.replace(/^["']|["']$/g, '');
  return (
    bare === '' ||
    bare.startsWith(MARKER_PREFIX) ||
    bare.startsWith('$') ||
    // Pointers and masks: `*mut c_char` in a struct dump, `*****abcd`.
    bare.startsWith('*') ||
    // What CI systems print instead of a secret: GitLab `[MASKED]`, Travis `[secure]`, `[FILTERED]`.
    /^\[[A-Za-z _-]{1,20}\]$/.test(bare) ||
    // The name of the variable that holds it: `server-password: GITHUB_TOKEN` (actions/setup-java).
    /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:TOKEN|PASSWORD|PASSWD|PWD|PASS|SECRET|KEY|PAT|CREDENTIALS?)$/.test(
      bare,
    ) ||
    // The name of the variable that holds it: `server-password: GITHUB_TOKEN` (actions/setup-java).
    /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:TOKEN|PASSWORD|PASSWD|PWD|PASS|SECRET|KEY|PAT|CREDENTIALS?)$/.test(
      bare,
    ) ||
    /^(?:\*+|x+|X+|\.{3}|<[^>]*>|%\w+%|\{\{.*\}\}|null|none|true|false|undefined|redacted|masked)$/i.test(
      bare,
    )
  );
}

/**
 * URLs, ARNs, paths and source locations (`tokenfilter.go:59`) are where a secret is, not the secret
 * (user-info in URLs has its own rule).
 */
function isReference(value: string): boolean {
  return /^(?:[a-z][a-z0-9+.-]*:\/\/|arn:|\.{0,2}\/|~\/)|^[\w./-]+\.[A-Za-z]{1,5}:\d+(?::\d+)?$/i.test(value);
}

/** Claims each matched secret (the `secret` group, or the whole match). */
function findRule(text: string, rule: Rule, spans: SpanCollector): void {
  const { pattern } = rule;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match[0] === '') {
      pattern.lastIndex += 1;
      continue;
    }
    const secret = match.groups?.secret ?? match[0];
    const start = match.index + (match.groups?.pre ?? '').length;
    if (secret.startsWith(MARKER_PREFIX) || (rule.accept && !rule.accept(secret))) continue;
    spans.claim(start, start + secret.length, rule.kind);
  }
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly kind: SecretKind;
}

/**
 * The secrets found, as stretches of the original text. Every rule reads the original text; the first
 * rule to claim a stretch keeps it (rules run most specific first), and the output is written once at
 * the end: no copy of a 20 MB log per rule that matched.
 */
class SpanCollector {
  /** Claimed by earlier rules: sorted, disjoint. */
  private claimed: Span[] = [];
  /** Claimed by the current rule, in order of start. */
  private current: Span[] = [];
  /** The first span of `claimed` that may overlap the current rule's next claim. */
  private cursor = 0;

  claim(start: number, end: number, kind: SecretKind): void {
    while (this.cursor < this.claimed.length && this.claimed[this.cursor]!.end <= start) this.cursor += 1;
    const next = this.claimed[this.cursor];
    if (next && next.start < end) return;
    const last = this.current[this.current.length - 1];
    if (last && last.end > start) return;
    this.current.push({ start, end, kind });
  }

  /** Ends a rule: its claims join the earlier ones. */
  endRule(): void {
    if (this.current.length > 0) {
      const merged: Span[] = [];
      let i = 0;
      let j = 0;
      while (i < this.claimed.length || j < this.current.length) {
        const a = this.claimed[i];
        const b = this.current[j];
        if (b === undefined || (a !== undefined && a.start < b.start)) {
          merged.push(a!);
          i += 1;
        } else {
          merged.push(b);
          j += 1;
        }
      }
      this.claimed = merged;
      this.current = [];
    }
    this.cursor = 0;
  }

  /** `text` with every claimed stretch masked line by line (its line breaks kept), and the counts. */
  write(text: string): RedactionResult {
    this.endRule();
    const counts: Partial<Record<SecretKind, number>> = {};
    let out = '';
    let copied = 0;
    for (const { start, end, kind } of this.claimed) {
      const secret = text.slice(start, end);
      out +=
        text.slice(copied, start) +
        (/[\r\n]/.test(secret)
          ? secret
              .split(/(\r\n|\r|\n)/)
              .map((part, index) => (index % 2 === 1 ? part : mask(kind)))
              .join('')
          : mask(kind));
      copied = end;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return { text: copied === 0 ? text : out + text.slice(copied), counts, total: this.claimed.length };
  }
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;
/** Longest private key (an 8192-bit RSA key in PEM is about 6.5 KB) the redactor looks for an END in. */
const MAX_PEM_CHARACTERS = 16_384;
/**
 * Lines of a private key whose END line is missing (a truncated log): base64 of at least 16 characters
 * (a shorter line, like `Killed`, is a word unless padded) or a `Header: value` line.
 */
const PEM_BODY_LINE =
  /^[ \t]*(?:[A-Za-z0-9+/]{16,128}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}|[\w-]{1,40}: [^\r\n]{0,200})[ \t]*$/;

/** Claims private keys, from BEGIN to END; a key without an END (a truncated log), its key lines. */
function findPrivateKeys(text: string, spans: SpanCollector): void {
  if (!text.includes('PRIVATE KEY')) return;
  // The next END line of each key type at or after the last lookup: one search per END line, not per
  // BEGIN line (a log of BEGIN lines without an END would otherwise take quadratic time).
  const nextEnd = new Map<string, number>();
  PEM_BEGIN.lastIndex = 0;
  for (let begin = PEM_BEGIN.exec(text); begin; begin = PEM_BEGIN.exec(text)) {
    const endMarker = `-----END ${begin[1]}-----`;
    let endAt = nextEnd.get(endMarker);
    if (endAt === undefined || (endAt >= 0 && endAt < begin.index)) {
      endAt = text.indexOf(endMarker, begin.index);
      nextEnd.set(endMarker, endAt);
    }
    let end: number;
    if (endAt >= 0 && endAt - begin.index <= MAX_PEM_CHARACTERS) {
      end = endAt + endMarker.length;
    } else {
      // No END line: mask the BEGIN line's rest and the key-looking lines after it.
      const lineEnd = /\r\n|\r|\n|$/g;
      lineEnd.lastIndex = begin.index;
      end = lineEnd.exec(text)!.index;
      for (;;) {
        const next = /\r\n|\r|\n/y;
        next.lastIndex = end;
        const brk = next.exec(text);
        if (!brk) break;
        const start = end + brk[0].length;
        const stop = /\r\n|\r|\n|$/g;
        stop.lastIndex = start;
        const lineStop = stop.exec(text)!.index;
        const line = text.slice(start, lineStop);
        if (line.trim() === '' || !PEM_BODY_LINE.test(line)) break;
        end = lineStop;
      }
    }
    spans.claim(begin.index, end, 'private-key');
    PEM_BEGIN.lastIndex = end;
  }
}

/** Replaces every secret in `text` with a `[REDACTED:<kind>]` marker, keeping the number of lines. */
export function redactSecrets(text: string): RedactionResult {
  const spans = new SpanCollector();
  findPrivateKeys(text, spans);
  spans.endRule();
  for (const rule of RULES) {
    if (rule.literal !== undefined && !text.includes(rule.literal)) continue;
    findRule(text, rule, spans);
    spans.endRule();
  }
  findCookies(text, spans);
  spans.endRule();
  findAssignments(text, spans);
  return spans.write(text);
}

/** The text with its secrets redacted (`redactSecrets(text).text`). */
export function redact(text: string): string {
  return redactSecrets(text).text;
}

namespace RunbookEngine;

/// <summary>The engine's settings, bound from the <c>RunbookEngine</c> configuration section (environment: <c>RUNBOOKENGINE__...</c>).</summary>
public sealed class RunbookEngineOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RunbookEngine";

    /// <summary>The folder of runbooks. Default <c>runbooks</c>.</summary>
    public string RunbooksPath { get; set; } = "runbooks";

    /// <summary>Where the embedded store and the compile cache live. Default <c>data</c>.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary><c>sqlite</c> (embedded, one node; the default) or <c>postgres</c> (clustered).</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>The PostgreSQL connection string, for <c>Storage = postgres</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>This node's name in the cluster and on runs. Default: the machine name and process id.</summary>
    public string? NodeId { get; set; }

    /// <summary>How many runs one node executes at once. Default 10.</summary>
    public int MaxConcurrentRuns { get; set; } = 10;

    /// <summary>How long a node waits for running steps to finish on shutdown before interrupting them. Default 30s.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether this node executes runs. A node set to false still records, schedules, cancels and serves runs (an API
    /// or webhook front end in a cluster); the other nodes execute them. Default true.
    /// </summary>
    public bool ExecutesRuns { get; set; } = true;

    /// <summary>Where runbooks come from: the local folder (default) or a Git remote.</summary>
    public CatalogOptions Catalog { get; set; } = new();

    /// <summary>The GitHub repository of the runbooks: check runs on the commits the host loads, and its webhook.</summary>
    public GitHub.GitHubOptions GitHub { get; set; } = new();

    /// <summary>Alert webhooks: body limit, credentials per source, circuit breakers.</summary>
    public AlertOptions Alerts { get; set; } = new();

    /// <summary>
    /// Who holds which role, for Manual steps and approvals that require one: role name → the people (as they give
    /// their name when answering). A step requiring a role nobody is listed under cannot be answered.
    /// </summary>
    public Dictionary<string, List<string>> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Who may use the API and dashboard from other machines.</summary>
    public AccessOptions Access { get; set; } = new();

    /// <summary>How toil is estimated where the journal cannot measure it.</summary>
    public ToilOptions Toil { get; set; } = new();

    /// <summary>How long run history is kept.</summary>
    public Retention.RetentionOptions Retention { get; set; } = new();

    /// <summary>Traces of webhooks, alerts, runs and steps.</summary>
    public Telemetry.TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>How runs are executed: in the host's process or in a process of their own.</summary>
    public Runs.ExecutionOptions Execution { get; set; } = new();

    /// <summary>How runbooks earn and keep trust: when a promotion is suggested, and when a runbook stops being fresh.</summary>
    public Trust.TrustOptions Trust { get; set; } = new();

    /// <summary>Where events (failed, timed-out and waiting runs, breakers, broken runbooks) are told: channels and routes.</summary>
    public Notifications.NotificationOptions Notifications { get; set; } = new();

    /// <summary>How related alerts are grouped into incidents.</summary>
    public Incidents.IncidentOptions Incidents { get; set; } = new();

    /// <summary>The Prometheus that SLOs are read from, and how often they are evaluated.</summary>
    public Slos.PrometheusOptions Prometheus { get; set; } = new();

    /// <summary>
    /// The service level objectives whose error budgets the host evaluates and runbooks' <c>budget_gate:</c> reads, a list
    /// (<c>RunbookEngine:Slos:0:Name</c>, ...). None by default.
    /// </summary>
    public List<Slos.SloOptions> Slos { get; set; } = [];

    /// <summary>True when the PostgreSQL store is selected.</summary>
    public bool UsesPostgres => string.Equals(Storage, "postgres", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Alert webhook settings, section <c>RunbookEngine:Alerts</c>.</summary>
public sealed class AlertOptions
{
    /// <summary>The largest webhook body accepted; larger ones get 413. Default 1 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Credentials by source name (<c>alertmanager</c>, <c>grafana</c>, <c>pagerduty</c>, <c>datadog</c>,
    /// <c>opsgenie</c>, <c>azure-monitor</c>, <c>aws-sns</c>, <c>generic</c>; custom sources keep theirs under <c>RunbookEngine:Alerts:Custom</c>). A source with none accepts requests from loopback only.
    /// </summary>
    public Dictionary<string, WebhookSourceOptions> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Custom sources by name, each posted to <c>/hooks/custom/{name}</c> and seen by runbooks as source <c>custom/{name}</c>.</summary>
    public Dictionary<string, CustomSourceOptions> Custom { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How far a signed timestamp (Grafana's) may be from now. Default 5 minutes.</summary>
    public TimeSpan SignatureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When a runbook stops being started by alerts.</summary>
    public BreakerOptions Breaker { get; set; } = new();

    /// <summary>
    /// How many webhook requests store their alerts at once on a node. Default 8. Storing is CPU-bound on the host
    /// and the database: more at once only adds contention, and during a storm it would take the CPU that matching
    /// needs to start the runs that fix the cause. Requests beyond it wait their turn; nothing is refused or lost.
    /// </summary>
    public int IngestConcurrency { get; set; } = 8;

    /// <summary>How many alerts are matched at once on a node. Default 4.</summary>
    public int MatchingConcurrency { get; set; } = 4;

    /// <summary>Amazon SNS deliveries to <c>/hooks/aws-sns</c>: which topics are ours, and how CloudWatch alarm states are read.</summary>
    public AwsSnsOptions AwsSns { get; set; } = new();
}

/// <summary>
/// Amazon SNS (<c>/hooks/aws-sns</c>), section <c>RunbookEngine:Alerts:AwsSns</c>. Its credentials (basic authentication in the
/// subscription URL, or a query token) are those of <c>RunbookEngine:Alerts:Sources:aws-sns</c>, as for every source.
/// </summary>
public sealed class AwsSnsOptions
{
    /// <summary>
    /// The topic ARNs whose subscriptions are confirmed and whose notifications are taken. A subscription confirmation for any
    /// other topic is refused (so nobody can subscribe this host to a topic of theirs); with none listed, no subscription is
    /// confirmed, and notifications from any topic are taken once their signature checks out.
    /// </summary>
    public List<string> TopicArns { get; set; } = [];

    /// <summary>Whether a CloudWatch alarm entering <c>INSUFFICIENT_DATA</c> fires an alert. Default false: it is logged and answered, nothing more.</summary>
    public bool InsufficientDataFires { get; set; }

    /// <summary>How long fetching a signing certificate or a subscription's confirmation URL may take. Default 5 s.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Test only: URL prefixes on a loopback address (e.g. <c>http://127.0.0.1:5123/</c>) accepted as signing certificate and
    /// subscription URLs besides Amazon's own <c>https://sns.REGION.amazonaws.com/</c>, so tests can sign with a key of their own.
    /// Anything but a loopback address is refused at start. Default: none.
    /// </summary>
    public List<string> TestOnlyAllowedUrlPrefixes { get; set; } = [];
}

/// <summary>The credentials a webhook sender can show. Every credential given must check out.</summary>
public abstract class WebhookCredentialOptions
{
    /// <summary>Expect <c>Authorization: Bearer TOKEN</c>.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Expect HTTP basic authentication with this user (and <see cref="BasicPassword"/>).</summary>
    public string? BasicUser { get; set; }

    /// <summary>The basic authentication password.</summary>
    public string? BasicPassword { get; set; }

    /// <summary>
    /// Expect <c>?token=TOKEN</c> in the webhook URL, for senders that cannot set a header (Azure Monitor action groups).
    /// A URL is copied into more places than a header, so prefer a header where the sender allows one.
    /// </summary>
    public string? QueryToken { get; set; }

    /// <summary>The HMAC secrets; only sources that sign their webhooks have any.</summary>
    public virtual IReadOnlyList<string> HmacSecrets => [];

    /// <summary>Whether any credential is configured.</summary>
    public bool HasCredential => BearerToken is { Length: > 0 } || BasicUser is { Length: > 0 } || QueryToken is { Length: > 0 } || HmacSecrets.Count > 0;
}

/// <summary>How one built-in alert source authenticates. Every credential given must check out.</summary>
public sealed class WebhookSourceOptions : WebhookCredentialOptions
{
    /// <summary>
    /// The HMAC secret of a signing source: Grafana (<c>X-Grafana-Alerting-Signature</c>) or PagerDuty
    /// (<c>X-PagerDuty-Signature</c>). During a PagerDuty secret rotation, list both in <see cref="Secrets"/>.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>More HMAC secrets accepted at once, for rotation.</summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary>Grafana only: the header carrying the signed timestamp, when Grafana is set to send one.</summary>
    public string? TimestampHeader { get; set; }

    /// <summary>
    /// Datadog only: a field the source reads (<c>id</c>, <c>title</c>, <c>alert_transition</c>, <c>tags</c>, …) to the JSON
    /// Pointer where the team's payload template puts it, e.g. <c>id = /event/id</c>.
    /// </summary>
    public Dictionary<string, string> Fields { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The HMAC secrets, <see cref="Secret"/> first.</summary>
    public override IReadOnlyList<string> HmacSecrets => [.. new[] { Secret }.Concat(Secrets).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!)];
}

/// <summary>
/// A payload shape described in configuration rather than code, posted to <c>/hooks/custom/{name}</c>: the same credentials as a
/// built-in source, and <see cref="Fields"/>, which says where in the JSON body each alert field is.
/// </summary>
public sealed class CustomSourceOptions : WebhookCredentialOptions
{
    /// <summary>
    /// Alert field to JSON Pointer (RFC 6901) into the body: <c>name</c> (required), <c>status</c>, <c>severity</c>, <c>fingerprint</c>,
    /// <c>startsAt</c>, <c>endsAt</c>, <c>labels</c>, <c>label.NAME</c>, <c>annotations</c>, <c>annotation.NAME</c>, <c>id</c> and
    /// <c>alerts</c>. With <c>alerts</c> (a pointer to an array) each element is one alert and the other pointers start at the element.
    /// </summary>
    public Dictionary<string, string> Fields { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Comma-separated <c>status</c> values that mean firing, compared ignoring case.</summary>
    public string FiringValues { get; set; } = "firing,triggered,alert,open";

    /// <summary>Comma-separated <c>status</c> values that mean resolved, compared ignoring case.</summary>
    public string ResolvedValues { get; set; } = "resolved,recovered,ok,closed";

    /// <summary>
    /// The HMAC-SHA256 secret the sender signs the raw body with; the signature is read from <see cref="SignatureHeader"/>.
    /// During a rotation, list both in <see cref="Secrets"/>.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>More HMAC secrets accepted at once, for rotation.</summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary>The header carrying the body's signature. Default <c>X-Signature-256</c>.</summary>
    public string SignatureHeader { get; set; } = "X-Signature-256";

    /// <summary>What comes before the signature in the header, e.g. <c>sha256=</c> (GitHub's style). Default none.</summary>
    public string SignaturePrefix { get; set; } = "";

    /// <summary><c>hex</c> (default, either case) or <c>base64</c>: how the sender writes the signature.</summary>
    public string SignatureEncoding { get; set; } = "hex";

    /// <summary>The HMAC secrets, <see cref="Secret"/> first.</summary>
    public override IReadOnlyList<string> HmacSecrets => [.. new[] { Secret }.Concat(Secrets).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!)];
}

/// <summary>
/// Per runbook: more than <see cref="MaxRuns"/> alert-started runs, or <see cref="MaxFailures"/> failed ones, within
/// <see cref="Window"/> opens the breaker for <see cref="OpenFor"/> (or until a person resets it).
/// </summary>
public sealed class BreakerOptions
{
    /// <summary>Alert-started runs allowed in the window. Default 10.</summary>
    public int MaxRuns { get; set; } = 10;

    /// <summary>Failed (or timed out) alert-started runs that open the breaker. Default 3.</summary>
    public int MaxFailures { get; set; } = 3;

    /// <summary>The window. Default 15 minutes.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an opened breaker stays open. Default 30 minutes.</summary>
    public TimeSpan OpenFor { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>The runbook catalog's source, section <c>RunbookEngine:Catalog</c>.</summary>
public sealed class CatalogOptions
{
    /// <summary><c>folder</c> (default: <see cref="RunbookEngineOptions.RunbooksPath"/>, watched for changes) or <c>git</c>.</summary>
    public string Source { get; set; } = "folder";

    /// <summary>How long the folder must be quiet after a change before it is reloaded. Default 300 ms.</summary>
    public TimeSpan WatchDebounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The Git remote to follow, for <c>Source = git</c>.</summary>
    public GitCatalogOptions Git { get; set; } = new();
}

/// <summary>A Git remote the catalog follows. Credentials are handed to git through its askpass hook, never on a command line or in a log.</summary>
public sealed class GitCatalogOptions
{
    /// <summary>The clone URL (https, ssh, or a path on disk).</summary>
    public string? Url { get; set; }

    /// <summary>The branch to follow. Default <c>main</c>.</summary>
    public string Branch { get; set; } = "main";

    /// <summary>The folder inside the repository that holds the runbooks. Default: the repository root.</summary>
    public string Path { get; set; } = "";

    /// <summary>The user for an https remote.</summary>
    public string? Username { get; set; }

    /// <summary>The password or token for an https remote.</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the password or token (a mounted secret), read at each fetch.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>How often to fetch. Default 60 s.</summary>
    public TimeSpan FetchInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The secret of the GitHub webhook (<c>X-Hub-Signature-256</c>) that triggers a fetch on push.</summary>
    public string? WebhookSecret { get; set; }
}

/// <summary>Estimates behind the toil reports.</summary>
public sealed class ToilOptions
{
    /// <summary>What an alert that matched no runbook is assumed to cost a person, in minutes (the "automate next" ranking).</summary>
    public double UnautomatedAlertMinutes { get; set; } = 15;

    /// <summary>Per alert name, a better estimate than <see cref="UnautomatedAlertMinutes"/>.</summary>
    public Dictionary<string, double> AlertMinutes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The alert label that names the service a run worked on, for reports grouped by service.</summary>
    public string ServiceLabel { get; set; } = "service";
}

/// <summary>Access to the API and dashboard from other machines (loopback callers need nothing).</summary>
public sealed class AccessOptions
{
    /// <summary>API tokens by the name of who holds them: <c>RunbookEngine__Access__Tokens__alice=...</c>. The name is who the API and dashboard record for actions.</summary>
    public Dictionary<string, string> Tokens { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether loopback callers need no token. Turn it off behind a reverse proxy on the same machine: every request
    /// then comes from loopback, whoever sent it.
    /// </summary>
    public bool TrustLoopback { get; set; } = true;

    /// <summary>
    /// The host names this host answers to besides <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c> (which it always
    /// answers to): the names people and senders use to reach it, e.g. <c>runbooks.example.com</c> or a compose service
    /// name. A request naming any other host gets 400 before any endpoint runs, which is what stops a web page whose
    /// name an attacker re-points at 127.0.0.1 (DNS rebinding). <c>*</c> answers to every name and is refused while
    /// <see cref="TrustLoopback"/> is on. Default: none.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// The addresses of reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed (so a
    /// sign-in cookie is <c>Secure</c> behind a proxy that terminates TLS, and the caller's address is the real one).
    /// Headers from any other address are ignored. Default: none.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>How long a dashboard sign-in lasts before the token must be given again. Default 12 hours.</summary>
    public TimeSpan SignInLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// A folder for the Data Protection key ring (sign-in cookies, anti-forgery tokens, secret parameters at rest)
    /// instead of the store; every node must see the same folder. Keeping it out of the database means a stolen
    /// database alone does not reveal secret parameters. Default: the store.
    /// </summary>
    public string? KeyRingPath { get; set; }
}

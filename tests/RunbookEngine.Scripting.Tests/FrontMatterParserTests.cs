using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Scripting.Tests;

public sealed class FrontMatterParserTests
{
    private const string File = "runbooks/disk-full.csx";

    [Fact]
    public void Parse_ReadsEveryKey()
    {
        var result = Parse("""
            description: Free disk space when a node's filesystem fills up
            owner: sre
            tags: [disk, linux]
            alerts:
              - name: NodeFilesystemAlmostFull
                source: alertmanager
                labels: { severity: "critical|warning" }
            schedule: "0 */6 * * *"
            parameters:
              instance: { type: string, required: true, from: "labels.instance" }
              threshold: { type: int, default: 80 }
              wait: duration
              mode: { type: string, values: [fast, safe], default: safe }
              token: { type: string, secret: true }
            manual_minutes: 20
            concurrency: "{{ labels.instance }}"
            on_conflict: refuse
            timeout: 10m
            retries: 2
            retry_backoff: 1m
            cooldown: 1h30m
            cancel_on_resolve: true
            isolation: process
            """);

        Assert.Empty(result.Errors);
        var definition = result.Definition!;
        Assert.Equal("Free disk space when a node's filesystem fills up", definition.Description);
        Assert.Equal(["disk", "linux"], definition.Tags);
        var rule = Assert.Single(definition.Alerts);
        Assert.Equal(("NodeFilesystemAlmostFull", "alertmanager", "critical|warning"), (rule.Name, rule.Source, rule.Labels["severity"]));
        Assert.Equal("0 */6 * * *", definition.Schedule!.ToCronosExpression());
        Assert.Equal(["instance", "threshold", "wait", "mode", "token"], definition.Parameters.Select(p => p.Name));
        Assert.Equal((ParameterType.String, true, "labels.instance"), (definition.Parameters[0].Type, definition.Parameters[0].Required, definition.Parameters[0].From));
        Assert.Equal(80L, definition.Parameters[1].Default);
        Assert.Equal(ParameterType.Duration, definition.Parameters[2].Type);
        Assert.Equal(["fast", "safe"], definition.Parameters[3].Values!);
        Assert.True(definition.Parameters[4].Secret);
        Assert.Equal(20, definition.ManualMinutes);
        Assert.Equal(ConflictPolicy.Refuse, definition.OnConflict);
        Assert.Equal(TimeSpan.FromMinutes(10), definition.Timeout);
        Assert.Equal((2, TimeSpan.FromMinutes(1)), (definition.Retries, definition.RetryBackoff));
        Assert.Equal(TimeSpan.FromMinutes(90), definition.Cooldown);
        Assert.True(definition.CancelOnResolve);
        Assert.Equal(Isolation.Process, definition.Isolation);
    }

    [Fact]
    public void Parse_OfAMinimalRunbook_UsesDocumentedDefaults()
    {
        var definition = Parse("description: minimal").Definition!;

        Assert.Equal((TimeSpan.FromMinutes(30), 0, ConflictPolicy.Queue, false), (definition.Timeout, definition.Retries, definition.OnConflict, definition.CancelOnResolve));
        Assert.Equal(Isolation.InProcess, definition.Isolation);
        Assert.Null(definition.Schedule);
        Assert.Empty(definition.Alerts);
    }

    [Theory]
    [InlineData("timeout: 10 minutes", 7, "`timeout`: '10 minutes' is not a duration; use 10m, 1h30m or 00:10:00")]
    [InlineData("timout: 10m", 7, "`timout`: is not a front matter key; did you mean `timeout`? known keys: description, owner, tags, alerts, schedule, parameters, manual_minutes, concurrency, on_conflict, timeout, retries, retry_backoff, cooldown, cancel_on_resolve, isolation, mode, confirm, drill, review_by, gameday, notify, budget_gate")]
    [InlineData("schedule: \"0 */6 * *\"", 7, "`schedule`: '0 */6 * *' has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"")]
    [InlineData("schedule: \"61 * * * *\"", 7, "`schedule`: minute '61' in '61 * * * *' must be a number from 0 to 59")]
    [InlineData("schedule: \"0 0 1 * MON\"", 7, "`schedule`: '0 0 1 * MON' restricts both day-of-month and day-of-week; set one of them to *")]
    [InlineData("retries: -1", 7, "`retries`: '-1' is not a whole number from 0 to 100")]
    [InlineData("manual_minutes: lots", 7, "`manual_minutes`: 'lots' is not a number of minutes (0 or more)")]
    [InlineData("on_conflict: maybe", 7, "`on_conflict`: 'maybe' is not a policy; use queue (wait in order) or refuse (do not start)")]
    [InlineData("isolation: container", 7, "`isolation`: 'container' is not an isolation; use process (a process of its own, killed at the timeout) or in-process (the default)")]
    [InlineData("cancel_on_resolve: yes please", 7, "`cancel_on_resolve`: 'yes please' is not true or false")]
    [InlineData("concurrency: \"{{ lables.instance }}\"", 7, "`concurrency`: '{{ lables.instance }}' names nothing; use labels.NAME, annotations.NAME, params.NAME (a declared parameter) or alert.name")]
    [InlineData("tags: disk", 7, "`tags`: must be a list, e.g. `[a, b]`")]
    [InlineData("timeout: 60d", 7, "`timeout`: '60d' is longer than 30d, the longest this setting can be")]
    [InlineData("schedule: \"0 0 30 2 *\"", 7, "`schedule`: '0 0 30 2 *' never fires (no such date)")]
    public void Parse_OfABadKey_NamesFileLineAndField(string line, int expectedLine, string expected)
    {
        var result = Parse($"description: ok\nowner: sre\n\n\n\n{line}");

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Definition);
        Assert.Equal($"{File}:{expectedLine}: {expected}", error.ToString());
    }

    [Fact]
    public void Parse_OfBadParameters_ReportsEachProblem()
    {
        var result = Parse("""
            description: parameters gone wrong
            parameters:
              count: { type: integer }
              limit: { type: int, default: ten }
              mode: { type: string, values: [a, b], default: c }
              host: { type: string, from: label.instance }
              9lives: string
              extra: { type: string, requird: true }
            """);

        Assert.Equal(
        [
            $"{File}:4: `parameters.count.type`: 'integer' is not a type; use string, int, number, bool or duration",
            $"{File}:5: `parameters.limit.default`: 'ten' is not an int (a whole number)",
            $"{File}:6: `parameters.mode.default`: 'c' is not one of its values: a, b",
            $"{File}:7: `parameters.host.from`: 'label.instance' is not an alert field; use labels.NAME, annotations.NAME or alert.name|source|severity|fingerprint|status",
            $"{File}:8: `parameters.9lives`: a parameter name is letters, digits and _, starting with a letter",
            $"{File}:9: `parameters.extra.requird`: is not a front matter key; did you mean `required`? known keys: type, required, default, from, description, secret, values",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parse_AcceptsACustomSource_WhichOnlyTheHostKnows()
    {
        var result = Parse("""
            description: answers a custom source
            alerts:
              - name: CheckoutLatencyHigh
                source: custom/acme
            """);

        Assert.Empty(result.Errors);
        Assert.Equal("custom/acme", Assert.Single(result.Definition!.Alerts).Source);
    }

    [Fact]
    public void Parse_OfBadAlertRules_ReportsEachProblem()
    {
        var result = Parse("""
            description: alerts gone wrong
            alerts:
              - name: DiskFull
                labels: { severity: "(critical" }
              - source: grafana
              - NotAMapping
            """);

        Assert.Equal(3, result.Errors.Count);
        Assert.StartsWith($"{File}:5: `alerts[0].labels.severity`: '(critical' is not a regular expression", result.Errors[0].ToString(), StringComparison.Ordinal);
        Assert.Equal($"{File}:6: `alerts[1]`: matches every alert; give it a `name:` or `labels:`", result.Errors[1].ToString());
        Assert.Equal($"{File}:7: `alerts[2]`: must be a rule such as `name: NodeFilesystemAlmostFull`", result.Errors[2].ToString());
    }

    [Fact]
    public void Parse_WithoutDescription_AsksForOne()
    {
        var error = Assert.Single(Parse("owner: sre").Errors);

        Assert.Equal($"{File}:2: `description`: is missing: say in one line what the runbook fixes", error.ToString());
    }

    [Fact]
    public void Parse_WithAnEmptyDescription_AsksForOne()
    {
        var error = Assert.Single(Parse("description:\nowner: sre").Errors);

        Assert.Equal($"{File}:2: `description`: is empty: say in one line what the runbook fixes", error.ToString());
    }

    [Fact]
    public void Parse_WithAListAsAKey_ReportsItInsteadOfCrashing()
    {
        var result = Parse("description: ok\n[a, b]: c");

        Assert.Contains(result.Errors, e => e.Message.Contains("a key must be a plain name", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_WithoutFrontMatter_SaysHowToStartOne()
    {
        var result = FrontMatterParser.Parse(File, "\n\nawait Step(\"x\", ct => Task.CompletedTask);\n");

        Assert.Equal($"{File}:3: no front matter: a runbook starts with a comment block between `// ---` lines, e.g. `// description: ...`", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Parse_OfAnUnclosedBlock_SaysHowToCloseIt()
    {
        var result = FrontMatterParser.Parse(File, "// ---\n// description: x\nawait Task.CompletedTask;\n");

        Assert.Equal($"{File}:1: the front matter is not closed: end it with a `// ---` line", Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void Parse_OfBrokenYaml_PointsAtTheLine()
    {
        var result = Parse("description: ok\nparameters:\n  a: { type: string\nowner: x");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{File}:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("the front matter is not valid YAML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NeverRunsTheScript()
    {
        var result = FrontMatterParser.Parse(File, "// ---\n// description: harmless\n// ---\nSystem.IO.File.Delete(\"/etc/passwd\");\n");

        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_ReadsADrillAgainstATestCase()
    {
        var result = Parse("description: ok\ndrill: { schedule: \"0 6 * * 1\", case: disk-full }");

        Assert.Empty(result.Errors);
        var drill = result.Definition!.Drill!;
        Assert.Equal(("0 6 * * 1", "disk-full", (string?)null), (drill.Schedule.Expression, drill.Case, drill.Alert));
    }

    [Fact]
    public void Parse_ReadsADrillAgainstARecordedAlert()
    {
        var result = Parse("description: ok\ndrill:\n  schedule: \"@daily\"\n  alert: 01JABCDEF");

        Assert.Empty(result.Errors);
        var drill = result.Definition!.Drill!;
        Assert.Equal(((string?)null, "01JABCDEF"), (drill.Case, drill.Alert));
    }

    [Theory]
    [InlineData("drill: { case: disk-full }", "`drill`: needs a `schedule:` (a cron expression) saying when the drill runs")]
    [InlineData("drill: { schedule: \"0 6 * * 1\", case: disk-full, alert: 01JABCDEF }", "`drill`: needs exactly one of `case:` (a test case beside the runbook) or `alert:` (a recorded alert's id) to drill against")]
    [InlineData("drill: { schedule: \"0 6 * * 1\" }", "`drill`: needs exactly one of `case:` (a test case beside the runbook) or `alert:` (a recorded alert's id) to drill against")]
    [InlineData("drill: weekly", "`drill`: must be a mapping such as `{ schedule: \"0 6 * * 1\", case: service-down }`")]
    [InlineData("drill: { schedule: \"0 6 * * 1\", case: ../etc/passwd }", "`drill.case`: '../etc/passwd' is not a test case name: use letters, digits, '-', '_' and '.' (the file tests/RUNBOOK/../etc/passwd.yaml)")]
    [InlineData("review_by: 2027-02-30", "`review_by`: '2027-02-30' is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01")]
    [InlineData("review_by: next spring", "`review_by`: 'next spring' is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01")]
    public void Parse_OfABadDrillOrReviewDate_SaysWhatIsWrong(string line, string expected)
    {
        var result = Parse($"description: ok\n{line}");

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Definition);
        Assert.Equal($"{File}:3: {expected}", error.ToString());
    }

    [Fact]
    public void Parse_ReadsAReviewDate()
    {
        var result = Parse("description: ok\nreview_by: 2027-03-01");

        Assert.Empty(result.Errors);
        Assert.Equal(new DateOnly(2027, 3, 1), result.Definition!.ReviewBy);
    }

    [Fact]
    public void Parse_ReadsModeAndConfirm()
    {
        var result = Parse("""
            description: asks before it acts
            mode: confirm
            confirm: { role: oncall, different_person: true, timeout: 30m, manual_minutes: 2 }
            """);

        Assert.Empty(result.Errors);
        Assert.Equal(Sdk.RunMode.Confirm, result.Definition!.Mode);
        Assert.Equal(new Sdk.Hosting.ConfirmSettings("oncall", true, TimeSpan.FromMinutes(30), 2), result.Definition.Confirm);
    }

    [Theory]
    [InlineData("shadow", Sdk.RunMode.Shadow)]
    [InlineData("Shadow", Sdk.RunMode.Shadow)]
    [InlineData("auto", Sdk.RunMode.Auto)]
    public void Parse_ReadsEachMode(string text, Sdk.RunMode expected)
    {
        var result = Parse($"description: a mode\nmode: {text}");

        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.Definition!.Mode);
    }

    [Fact]
    public void Parse_WithoutMode_RunsInAutoAndAsksAnyoneWithoutDeadline()
    {
        var definition = Parse("description: minimal").Definition!;

        Assert.Equal(Sdk.RunMode.Auto, definition.Mode);
        Assert.Equal(new Sdk.Hosting.ConfirmSettings(), definition.Confirm);
    }

    [Theory]
    [InlineData("mode: dry-run", "`mode`: 'dry-run' is not a mode; use shadow (run what only reads, propose the rest), confirm (ask a person before the first side effect) or auto (the default)")]
    [InlineData("mode: 1", "`mode`: '1' is not a mode; use shadow (run what only reads, propose the rest), confirm (ask a person before the first side effect) or auto (the default)")]
    [InlineData("confirm: { rol: oncall }", "`confirm.rol`: is not a front matter key; did you mean `role`? known keys: role, different_person, timeout, manual_minutes")]
    [InlineData("confirm: { timeout: soon }", "`confirm.timeout`: 'soon' is not a duration; use 10m, 1h30m or 00:10:00")]
    [InlineData("confirm: oncall", "`confirm`: must be a mapping such as `{ role: oncall, different_person: true, timeout: 30m }`")]
    public void Parse_OfABadModeOrConfirm_NamesTheField(string line, string expected)
    {
        var result = Parse($"description: ok\n{line}");

        var error = Assert.Single(result.Errors);
        Assert.Equal($"{File}:3: {expected}", error.ToString());
    }

    [Theory]
    [InlineData("budget_gate: { slo: checkout-availability, below: 10%, then: confirm }", "checkout-availability", 10, Sdk.RunMode.Confirm)]
    [InlineData("budget_gate: { slo: checkout, below: 2.5% }", "checkout", 2.5, Sdk.RunMode.Confirm)]
    [InlineData("budget_gate: { slo: checkout, below: 100 %, then: Shadow }", "checkout", 100, Sdk.RunMode.Shadow)]
    public void Parse_ReadsABudgetGate(string line, string slo, double below, Sdk.RunMode then)
    {
        var result = Parse($"description: gated\n{line}");

        Assert.Empty(result.Errors);
        Assert.Equal(new BudgetGate(slo, below, then), result.Definition!.BudgetGate);
    }

    [Fact]
    public void Parse_ReadsABudgetGatesTimeout_AndDefaultsItToHalfAnHour()
    {
        Assert.Equal(TimeSpan.FromMinutes(15), Parse("description: gated\nbudget_gate: { slo: checkout, below: 10%, timeout: 15m }").Definition!.BudgetGate!.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(30), Parse("description: gated\nbudget_gate: { slo: checkout, below: 10% }").Definition!.BudgetGate!.Timeout);
    }

    [Fact]
    public void Parse_WithoutABudgetGate_GatesNothing()
    {
        Assert.Null(Parse("description: minimal").Definition!.BudgetGate);
    }

    [Theory]
    [InlineData("budget_gate: checkout", "`budget_gate`: must be a mapping such as `{ slo: checkout-availability, below: 10%, then: confirm }`")]
    [InlineData("budget_gate: { slo: checkout }", "`budget_gate`: needs `slo:` (an SLO configured under RunbookEngine:Slos) and `below:` (a percentage of its error budget), e.g. `{ slo: checkout-availability, below: 10%, then: confirm }`")]
    [InlineData("budget_gate: { slo: checkout, below: 0% }", "`budget_gate.below`: '0%' is not a percentage of the error budget; use a number above 0 and at most 100, such as 10%")]
    [InlineData("budget_gate: { slo: checkout, below: 150% }", "`budget_gate.below`: '150%' is not a percentage of the error budget; use a number above 0 and at most 100, such as 10%")]
    [InlineData("budget_gate: { slo: checkout, below: lots }", "`budget_gate.below`: 'lots' is not a percentage of the error budget; use a number above 0 and at most 100, such as 10%")]
    [InlineData("budget_gate: { slo: checkout, below: 10%, then: auto }", "`budget_gate.then`: 'auto' is not what a gate can do; use confirm (ask a person before the first side effect) or shadow (only propose)")]
    [InlineData("budget_gate: { slo: checkout, below: 10%, than: confirm }", "`budget_gate.than`: is not a front matter key; did you mean `then`? known keys: slo, below, then, timeout")]
    [InlineData("budget_gate: { slo: \"\", below: 10% }", "`budget_gate.slo`: must name an SLO configured under RunbookEngine:Slos, e.g. checkout-availability")]
    [InlineData("budget_gate: { slo: checkout, below: 0.1 }", "`budget_gate.below`: '0.1' needs its % sign, such as 10%: a percentage of the error budget, not a ratio")]
    public void Parse_OfABadBudgetGate_NamesTheField(string line, string expected)
    {
        var result = Parse($"description: ok\n{line}");

        var error = Assert.Single(result.Errors);
        Assert.Equal($"{File}:3: {expected}", error.ToString());
    }

    [Fact]
    public void Parse_ReadsAGameDayBlock_AsCommandLines()
    {
        var result = Parse("""
            description: restarts the demo service
            gameday:
              inject: bash -c 'kill "$(cat data/services/demo-service.pid)"'
              verify: curl -fsS http://127.0.0.1:8089/
              restore: systemctl start demo
              timeout: 5m
            """);

        Assert.Empty(result.Errors);
        var gameDay = result.Definition!.GameDay!;
        Assert.Equal("bash -c 'kill \"$(cat data/services/demo-service.pid)\"'", gameDay.Inject);
        Assert.Equal("curl -fsS http://127.0.0.1:8089/", gameDay.Verify);
        Assert.Equal("systemctl start demo", gameDay.Restore);
        Assert.Equal(TimeSpan.FromMinutes(5), gameDay.Timeout);
    }

    [Fact]
    public void Parse_OfAGameDayWithOnlyInjectAndVerify_HasNoRestoreAndTheDefaultTimeout()
    {
        var result = Parse("description: ok\ngameday: { inject: \"true\", verify: \"true\" }");

        Assert.Empty(result.Errors);
        Assert.Equal(new GameDayDefinition("true", "true", null, TimeSpan.FromMinutes(10)), result.Definition!.GameDay);
        Assert.Null(Parse("description: ok").Definition!.GameDay);
    }

    [Fact]
    public void Parse_ReadsANotifyBlock_AsChannelsPerEvent()
    {
        var result = Parse("""
            description: restarts the demo service
            notify:
              failed: [oncall, audit]
              succeeded: audit
              waiting: []
            """);

        Assert.Empty(result.Errors);
        var notify = result.Definition!.Notify;
        Assert.Equal(["oncall", "audit"], notify["failed"]);
        Assert.Equal(["audit"], notify["succeeded"]);
        Assert.Empty(notify["waiting"]);
        Assert.False(notify.ContainsKey("timed_out"));
        Assert.Empty(Parse("description: ok").Definition!.Notify);
    }

    [Theory]
    [InlineData("notify:\n  failing: [oncall]", "`notify.failing`: 'failing' is not an event that notifies; events: failed, timed_out, waiting, succeeded, breaker_opened, catalog_broken")]
    [InlineData("notify:\n  failed: [\"on call\"]", "`notify.failed`: 'on call' is not a channel name: use letters, digits, '-', '_' and '.' (a name under RunbookEngine:Notifications:Channels)")]
    [InlineData("notify: oncall", "`notify`: must be a mapping of events to channels such as `{ failed: [oncall], succeeded: [audit] }`")]
    public void Parse_OfABadNotifyBlock_SaysWhatIsWrong(string yaml, string expected)
    {
        var result = Parse("description: ok\n" + yaml);

        Assert.Null(result.Definition);
        Assert.EndsWith(": " + expected, Assert.Single(result.Errors).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OfAGameDayWithoutInjectOrVerify_AsksForEach()
    {
        var result = Parse("description: ok\ngameday:\n  restore: \"true\"");

        Assert.Null(result.Definition);
        Assert.Equal(
        [
            $"{File}:4: `gameday`: needs `inject:`, the command that breaks what the runbook fixes",
            $"{File}:4: `gameday`: needs `verify:`, a command that exits 0 once the fault is gone",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("  restor: \"true\"", "`gameday.restor`: is not a front matter key; did you mean `restore`? known keys: inject, verify, restore, timeout")]
    [InlineData("  timeout: soon", "`gameday.timeout`: 'soon' is not a duration; use 10m, 1h30m or 00:10:00")]
    [InlineData("  timeout: 0s", "`gameday.timeout`: '0s' is not a duration; use 10m, 1h30m or 00:10:00")]
    [InlineData("  restore: \"bash -c 'unclosed\"", "`gameday.restore`: 'bash -c 'unclosed' is not a command line: ")]
    [InlineData("  restore: \"  \"", "`gameday.restore`: is empty: give the command to run")]
    public void Parse_OfABadGameDayKey_NamesTheLineAndTheKey(string line, string expected)
    {
        var result = Parse($"description: ok\ngameday:\n  inject: \"true\"\n  verify: \"true\"\n{line}");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{File}:6: {expected}", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OfAGameDayThatIsNotAMapping_SaysWhatItNeeds()
    {
        var error = Assert.Single(Parse("description: ok\ngameday: kill it").Errors);

        Assert.Equal($"{File}:3: `gameday`: must be a mapping with `inject:`, `verify:` and optionally `restore:` and `timeout:`", error.ToString());
    }

    private static FrontMatterResult Parse(string yaml)
    {
        var header = string.Join('\n', yaml.Split('\n').Select(line => "// " + line));
        return FrontMatterParser.Parse(File, $"// ---\n{header}\n// ---\nawait Step(\"x\", ct => Task.CompletedTask);\n");
    }
}

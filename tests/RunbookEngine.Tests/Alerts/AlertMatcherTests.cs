using RunbookEngine.Alerts;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Tests.Alerts;

public sealed class AlertMatcherTests
{
    private static RunbookAlert Alert(string name = "DiskFull", string source = "alertmanager", params (string Name, string Value)[] labels) =>
        new(source, name, AlertStatus.Firing, null, labels.ToDictionary(l => l.Name, l => l.Value), new Dictionary<string, string>(),
            DateTimeOffset.UnixEpoch, null, "f");

    private static AlertRule Rule(string? name = null, string? source = null, params (string Name, string Pattern)[] labels) =>
        new(name, source, labels.ToDictionary(l => l.Name, l => l.Pattern), 1);

    [Fact]
    public void the_name_must_be_equal_and_is_case_sensitive()
    {
        Assert.True(AlertMatcher.Matches(Rule("DiskFull"), Alert()));
        Assert.False(AlertMatcher.Matches(Rule("diskfull"), Alert()));
        Assert.False(AlertMatcher.Matches(Rule("DiskFullSoon"), Alert()));
    }

    [Fact]
    public void a_source_restricts_the_rule_ignoring_case()
    {
        Assert.True(AlertMatcher.Matches(Rule("DiskFull", "Alertmanager"), Alert()));
        Assert.False(AlertMatcher.Matches(Rule("DiskFull", "grafana"), Alert()));
    }

    [Fact]
    public void a_custom_source_is_matched_by_its_full_name_only()
    {
        Assert.True(AlertMatcher.Matches(Rule("DiskFull", "custom/acme"), Alert(source: "custom/acme")));
        Assert.True(AlertMatcher.Matches(Rule("DiskFull", "Custom/ACME"), Alert(source: "custom/acme")));
        Assert.False(AlertMatcher.Matches(Rule("DiskFull", "acme"), Alert(source: "custom/acme")));
        Assert.False(AlertMatcher.Matches(Rule("DiskFull", "custom/acme"), Alert(source: "generic")));
    }

    [Theory]
    [InlineData("critical|warning", "warning", true)]
    [InlineData("critical|warning", "warning-ish", false)]
    [InlineData("crit", "critical", false)]
    [InlineData("web-.*", "web-1", true)]
    [InlineData("", "", true)]
    public void label_patterns_match_the_whole_value(string pattern, string value, bool matches) =>
        Assert.Equal(matches, AlertMatcher.Matches(Rule("DiskFull", null, ("severity", pattern)), Alert(labels: ("severity", value))));

    [Fact]
    public void a_missing_label_is_the_empty_string()
    {
        Assert.False(AlertMatcher.Matches(Rule(null, null, ("team", "sre")), Alert()));
        Assert.True(AlertMatcher.Matches(Rule(null, null, ("team", "|sre")), Alert()));
    }

    [Fact]
    public void every_label_pattern_must_hold()
    {
        var rule = Rule("DiskFull", null, ("severity", "critical"), ("instance", "db-.*"));

        Assert.True(AlertMatcher.Matches(rule, Alert(labels: [("severity", "critical"), ("instance", "db-1")])));
        Assert.False(AlertMatcher.Matches(rule, Alert(labels: [("severity", "critical"), ("instance", "web-1")])));
    }

    [Fact]
    public void a_pathological_pattern_against_hostile_text_is_no_match_rather_than_a_hang()
    {
        var hostile = new string('a', 50_000) + "!";

        Assert.False(AlertMatcher.Matches(Rule(null, null, ("x", "(a+)+$")), Alert(labels: ("x", hostile))));
    }
}

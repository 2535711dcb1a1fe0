using System.Text;
using RunbookEngine.Alerts.Sources;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

/// <summary>The worked vectors from each fixture folder's SOURCE.md, each checked with openssl there, plus the ways a signature must fail.</summary>
public sealed class WebhookSignaturesTests
{
    private const string GrafanaBody = "grafana/alerting-test-default-payload-firing.json";
    private const string GrafanaSecret = "grafana-hmac-secret";
    private const string GrafanaSignature = "74b350fc266820c7843141914c06bb146de23620832cb88f517556cd43fcd711";
    private const string GrafanaTimestampSignature = "576eba2781e60b88a6b8b220af61c641a4704d915e757a95f3a221df401459bb";
    private const string GrafanaTimestamp = "1700000000";

    private const string PagerDutyOfficialBody = "pagerduty/go-pagerduty-signed-priority-updated.body.json";
    private const string PagerDutyOfficialSecret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
    private const string PagerDutyOfficialHeader = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
    private const string PagerDutyRotationBody = "pagerduty/zulip-incident-triggered-v3.json";
    private const string PagerDutyRotationHeader = "v1=125b4142693b9b96f6a5790faff6b5ad6728d691afb3f55beef7e5423f4c8d89,v1=386b3c86a0bd514ef7fdb42e256d3432a5ad365b4b93f5b09e67dfd15a48c4c5";

    private static readonly DateTimeOffset GrafanaTime = DateTimeOffset.FromUnixTimeSeconds(1700000000);

    [Fact]
    public void HexHmac_AcceptsTheGrafanaUpstreamVector_InEitherHexCase()
    {
        const string Signature = "3bcebf43c85d20bba6e3b6ba278af1d2ba3ab0d57de271b0ad30b833e851c5a6";

        Assert.True(WebhookSignatures.VerifyHexHmacSha256("secret"u8, "test message"u8, Signature));
        Assert.True(WebhookSignatures.VerifyHexHmacSha256("secret"u8, "test message"u8, Signature.ToUpperInvariant()));
        Assert.False(WebhookSignatures.VerifyHexHmacSha256("secret"u8, "test message!"u8, Signature));
        Assert.False(WebhookSignatures.VerifyHexHmacSha256("Secret"u8, "test message"u8, Signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("3bcebf43")]
    [InlineData("3bcebf43c85d20bba6e3b6ba278af1d2ba3ab0d57de271b0ad30b833e851c5a")]
    [InlineData("3bcebf43c85d20bba6e3b6ba278af1d2ba3ab0d57de271b0ad30b833e851c5a6a6")]
    [InlineData("3bcebf43c85d20bba6e3b6ba278af1d2ba3ab0d57de271b0ad30b833e851c5zz")]
    [InlineData("sha256=3bcebf43c85d20bba6e3b6ba278af1d2ba3ab0d57de271b0ad30b833e851c5a6")]
    [InlineData("O7y/Q8hdILtuOza6J4rx0ro6sNV94nGwrTC4M+hRxaY=")]
    public void HexHmac_MalformedSignature_IsFalse_NotAnException(string? signature)
    {
        Assert.False(WebhookSignatures.VerifyHexHmacSha256("secret"u8, "test message"u8, signature));
    }

    [Fact]
    public void HexHmac_WithAnEmptySecret_VerifiesNothing()
    {
        var anyoneCanMakeThis = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData([], "test message"u8));

        Assert.False(WebhookSignatures.VerifyHexHmacSha256([], "test message"u8, anyoneCanMakeThis));
    }

    [Fact]
    public void Grafana_AcceptsTheFixtureVector_WithoutATimestamp()
    {
        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, Fixture(GrafanaBody), GrafanaSignature, null, GrafanaTime, null));
        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, Fixture(GrafanaBody), GrafanaSignature, "", GrafanaTime, null));
    }

    [Fact]
    public void Grafana_AcceptsTheTimestampVector_WithinTolerance_EitherSide()
    {
        var body = Fixture(GrafanaBody);
        var window = TimeSpan.FromMinutes(5);

        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime, null));
        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime.AddMinutes(5), window));
        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime.AddMinutes(-5), window));
    }

    [Fact]
    public void Grafana_RejectsATimestampOutsideTolerance_ButNotWithoutOne()
    {
        var body = Fixture(GrafanaBody);
        var window = TimeSpan.FromMinutes(5);

        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime.AddMinutes(5).AddSeconds(1), window));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime.AddHours(-1), window));
        Assert.True(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, GrafanaTimestamp, GrafanaTime.AddDays(365), null));
    }

    [Fact]
    public void Grafana_WithATolerance_RequiresAUsableTimestamp()
    {
        var body = Fixture(GrafanaBody);
        var window = TimeSpan.FromMinutes(5);

        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaSignature, null, GrafanaTime, window));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, "1700000000.0", GrafanaTime, window));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, "-1700000000", GrafanaTime, window));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, "99999999999999999999", GrafanaTime, window));
    }

    [Fact]
    public void Grafana_TheTimestampIsSigned_SoItCannotBeSwappedOrDropped()
    {
        var body = Fixture(GrafanaBody);

        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, "1700000060", GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaTimestampSignature, null, GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, body, GrafanaSignature, GrafanaTimestamp, GrafanaTime, null));
    }

    [Fact]
    public void Grafana_TamperedBodyOrWrongSecret_IsRejected()
    {
        var tampered = Fixture(GrafanaBody);
        tampered[^2] ^= 0x01;

        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, tampered, GrafanaSignature, null, GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, [.. Fixture(GrafanaBody), (byte)'\n'], GrafanaSignature, null, GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana("grafana-hmac-secreT", Fixture(GrafanaBody), GrafanaSignature, null, GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana("", Fixture(GrafanaBody), GrafanaSignature, null, GrafanaTime, null));
        Assert.False(WebhookSignatures.VerifyGrafana(GrafanaSecret, Fixture(GrafanaBody), null, null, GrafanaTime, null));
    }

    [Fact]
    public void PagerDuty_AcceptsTheOfficialVector_AndRejectsItsNegative()
    {
        var body = Fixture(PagerDutyOfficialBody);

        Assert.True(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, PagerDutyOfficialHeader));
        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"));
    }

    [Theory]
    [InlineData("pd-secret-old")]
    [InlineData("pd-secret-new")]
    public void PagerDuty_RotationHeader_IsValidForEitherSecret(string secret)
    {
        var body = Fixture(PagerDutyRotationBody);

        Assert.True(WebhookSignatures.VerifyPagerDuty([secret], body, PagerDutyRotationHeader));
        Assert.True(WebhookSignatures.VerifyPagerDuty(["unrelated", secret], body, PagerDutyRotationHeader));
    }

    [Fact]
    public void PagerDuty_RotationHeader_IsValidWhileBothSecretsAreConfigured_AndNotForAnother()
    {
        var body = Fixture(PagerDutyRotationBody);

        Assert.True(WebhookSignatures.VerifyPagerDuty(["pd-secret-old", "pd-secret-new"], body, PagerDutyRotationHeader));
        Assert.False(WebhookSignatures.VerifyPagerDuty(["pd-secret-newer"], body, PagerDutyRotationHeader));
        Assert.False(WebhookSignatures.VerifyPagerDuty([], body, PagerDutyRotationHeader));
        Assert.False(WebhookSignatures.VerifyPagerDuty(["", "pd-secret-older"], body, PagerDutyRotationHeader));
    }

    [Fact]
    public void PagerDuty_OnlyV1Counts_AndJunkBesideItIsIgnored()
    {
        var body = Fixture(PagerDutyOfficialBody);
        var hex = PagerDutyOfficialHeader[3..];

        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, "v2=" + hex));
        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, hex));
        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, "V1=" + hex));
        Assert.True(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, $"v2=abc, v1=zz, v1={hex} ,v0=1"));
        Assert.True(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], body, $"v1={hex.ToUpperInvariant()}"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(",")]
    [InlineData("v1=")]
    [InlineData("v1=0c0b")]
    [InlineData("v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cg")]
    public void PagerDuty_MalformedHeader_IsFalse_NotAnException(string? header)
    {
        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], Fixture(PagerDutyOfficialBody), header));
    }

    [Fact]
    public void PagerDuty_TamperedBody_IsRejected()
    {
        var reformatted = Encoding.UTF8.GetBytes(FixtureText(PagerDutyOfficialBody) + "\n");
        var tampered = Edit(PagerDutyOfficialBody, ("\"urgency\":\"high\"", "\"urgency\":\"low\""));

        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], reformatted, PagerDutyOfficialHeader));
        Assert.False(WebhookSignatures.VerifyPagerDuty([PagerDutyOfficialSecret], tampered, PagerDutyOfficialHeader));
    }
}

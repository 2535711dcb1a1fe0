using System.Security.Cryptography;
using System.Text.Json;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

/// <summary>
/// The copied fixtures are still the bytes that were signed or captured (sizes and hashes from each SOURCE.md).
/// A checkout that converted line endings or an editor that added a final newline fails here first, not as a puzzling signature failure.
/// </summary>
public sealed class FixtureFilesTests
{
    [Theory]
    [InlineData("alertmanager/live-firing-single.json", 847, null)]
    [InlineData("grafana/alerting-test-default-payload-firing.json", 1327, "d6b809b082f94b59c14dce0e732a73882f3a0c191f8ad8ec2b2e9c211a0c5e7b")]
    [InlineData("pagerduty/go-pagerduty-signed-priority-updated.body.json", 1655, null)]
    [InlineData("pagerduty/zulip-incident-triggered-v3.json", 1650, "7d5151b194fd7d0ef98bc80279a60be944f4a9a2f057d642aa1feaea84951017")]
    [InlineData("opsgenie/zulip-create.json", 913, null)]
    [InlineData("github/push-new-branch-with-commit.json", 8827, "c1cab5f4e9bc7d5c85665397a008a2a0410e9db8fb566d347c30f85fe5526292")]
    public void Fixture_IsByteExact(string path, int length, string? sha256)
    {
        var bytes = Fixture(path);

        Assert.Equal(length, bytes.Length);
        Assert.DoesNotContain((byte)'\r', bytes);
        if (sha256 is not null)
        {
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public void CapturedLive_RawBody_IsTheFiringSingleFile_ToTheByte()
    {
        using var envelope = JsonDocument.Parse(Fixture("alertmanager/captured-live.json"));

        Assert.Equal(FixtureText("alertmanager/live-firing-single.json"), envelope.RootElement.GetProperty("rawBody").GetString());
    }
}

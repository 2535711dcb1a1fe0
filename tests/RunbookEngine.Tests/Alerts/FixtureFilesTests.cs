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
    [InlineData("azure-monitor/docs-metric-resolved.json", 1629, "d610950335b9a306df7a6396abb09e9e41bdca393e3967fca1aa85ae8a8f2437")]
    [InlineData("azure-monitor/docs-test-metric-static-fired.json", 2210, "b5e6fbf13410831650d4a327fa32f0d734269e7fb86e7e94945da06a9476ee22")]
    [InlineData("azure-monitor/docs-test-log-search-v2-fired.json", 4208, "d682c320747dfc0a10f1f741d6470f4bf80ffbd99a004f2c86542129ccce187d")]
    [InlineData("azure-monitor/docs-test-log-search-v1-numresults-fired.json", 4365, "b29e39bf7a3bfd42b8b900ebaa6b08b7140c40ab51902ca955e9d404f81e37ed")]
    [InlineData("azure-monitor/docs-test-activity-log-administrative-fired.json", 2516, "7a85dc8fe9ef5f2c050071aa5af0011a18c5c826e52ded85e66e5034f957f30c")]
    [InlineData("datadog/fluffy-custom-payload-triggered.json", 1448, "667c1b775c4359a4a8163aca3d1f013aee93ed93bb8673cb55bbf7cfd5db7c4f")]
    [InlineData("datadog/fluffy-custom-payload-recovered.json", 1207, "6731e9baf2ab6738febd225540cb15d92b9c96c01f5301fb8560475e70cd27a6")]
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

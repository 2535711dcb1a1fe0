using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookEngine.IntegrationTests;

/// <summary>GitHub webhook deliveries built from the recorded ones in Fixtures/github, signed as GitHub signs them.</summary>
internal static class GitHubDeliveries
{
    /// <summary>A recorded delivery's exact bytes.</summary>
    public static byte[] Fixture(string file) => File.ReadAllBytes(AlertWebhooks.Fixture("github", file));

    /// <summary>
    /// A push with every field GitHub sends: the recorded push, moved to <paramref name="reference"/> and <paramref name="after"/>.
    /// A deletion carries no commits and no head commit, as GitHub sends it.
    /// </summary>
    public static byte[] Push(string reference, string after, bool deleted = false)
    {
        var push = JsonNode.Parse(Fixture("push-new-branch-with-commit.json"))!.AsObject();
        push["ref"] = reference;
        push["after"] = after;
        push["created"] = false;
        push["deleted"] = deleted;
        if (deleted)
        {
            push["commits"] = new JsonArray();
            push["head_commit"] = null;
        }

        return JsonSerializer.SerializeToUtf8Bytes(push);
    }

    /// <summary>
    /// A recorded <c>pull_request</c> delivery (<paramref name="file"/>) with every field as GitHub sent it, but for its head
    /// commit, moved to <paramref name="headSha"/>, a commit of the test's repository.
    /// </summary>
    public static byte[] PullRequest(string file, string headSha)
    {
        var pull = JsonNode.Parse(Fixture(file))!.AsObject();
        pull["pull_request"]!["head"]!["sha"] = headSha;
        return JsonSerializer.SerializeToUtf8Bytes(pull);
    }

    /// <summary>The <c>X-Hub-Signature-256</c> value for <paramref name="body"/> under <paramref name="secret"/>.</summary>
    public static string Sign(string secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}

using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Sources;

namespace RunbookEngine.Scripting.Tests;

/// <summary>Every runbook shipped in runbooks/ is code that must keep compiling.</summary>
public sealed class ExampleRunbookTests
{
    public static TheoryData<string> Names() => [.. new RunbookFolder(Fixture.ExampleRunbooks).Names()];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task ExampleRunbook_HasValidFrontMatter_AndCompiles(string name)
    {
        var document = new RunbookFolder(Fixture.ExampleRunbooks).Read(name)!;
        using var compiler = new RunbookCompiler(null);

        var result = await compiler.CompileAsync(document.Source);

        Assert.True(document.IsValid, string.Join('\n', document.Diagnostics));
        Assert.True(result.Success, string.Join('\n', result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        Assert.False(string.IsNullOrWhiteSpace(document.Definition!.Description));
    }

    [Fact]
    public void ExampleRunbooks_AreThere()
    {
        Assert.True(Names().Count >= 4);
    }
}

using RunbookEngine.TestSupport;
using Microsoft.Playwright;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Debian's chromium driven by Playwright. The driver (and the node it runs on) come inside the NuGet package, copied to
/// bin/.playwright on build; Playwright's own browser builds are never downloaded.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _chromium;

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        _chromium = chromium;
    }

    public static async Task<Browser> LaunchAsync()
    {
        Assert.True(File.Exists(Executable), $"the browser tests drive Debian's chromium at {Executable}; install the chromium package");

        // The host shares two cores with the build and other tests, and a run compiles its script first: the five-second
        // defaults of Playwright's waits are too short there, and a generous wait costs nothing when things go well.
        Assertions.SetDefaultExpectTimeout(60_000);
        // Playwright's driver and the chromium it starts are tagged, so they go with this process even if it is killed.
        ProcessReaper.Watch();
        var playwright = await Playwright.CreateAsync();
        try
        {
            var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Executable,
                Headless = true,

                // No sandbox: CI runs as root in a container, where chromium's sandbox cannot start. No background
                // networking: the tests talk to a loopback host only.
                Args = ["--no-sandbox", "--disable-background-networking"],
            });
            return new Browser(playwright, chromium);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page with its own cookies, its relative URLs resolved against <paramref name="host"/>.</summary>
    public async Task<IPage> NewPageAsync(Uri host)
    {
        var context = await _chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = host.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout(60_000);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Saves a screenshot into docs/images of the repository, only when RUNBOOKENGINE_SCREENSHOTS=1: they are tracked
    /// files, refreshed on purpose rather than by every test run.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        if (Environment.GetEnvironmentVariable("RUNBOOKENGINE_SCREENSHOTS") != "1")
        {
            return;
        }

        var images = Directory.CreateDirectory(Repository.Path("docs", "images"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(images.FullName, name), FullPage = fullPage, Type = ScreenshotType.Png });
    }

    public async ValueTask DisposeAsync()
    {
        await _chromium.CloseAsync();
        _playwright.Dispose();
    }
}

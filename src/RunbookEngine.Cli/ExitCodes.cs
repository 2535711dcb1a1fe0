namespace RunbookEngine.Cli;

/// <summary>What the process exit code means; scripts and CI gate on these.</summary>
internal static class ExitCodes
{
    /// <summary>Everything valid, or the run succeeded.</summary>
    public const int Ok = 0;

    /// <summary>A runbook is invalid, or the run did not succeed.</summary>
    public const int Failed = 1;

    /// <summary>The command was used wrongly: unknown option, missing folder, bad parameter.</summary>
    public const int Usage = 2;
}

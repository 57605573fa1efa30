using System.Diagnostics;

namespace Foresight.Tests;

/// <summary>Runs the real `foresight` program as a child process, as a user would.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Starts foresight and returns at once; the caller reads or kills it.</summary>
    public static Process Start(params string[] args) => Start(null, args);

    /// <summary>Starts foresight with some environment variables set (the others inherited).</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Foresight.Cli.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(dll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    public static Result Run(params string[] args) => Run(null, args);

    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"foresight {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The smallest run worth evaluating: seconds to train.</summary>
    public static readonly string[] TinyRun =
        ["--degree", "2", "--path-length", "4", "--nodes", "20", "--layers", "1", "--width", "32", "--heads", "2",
         "--train-samples", "512", "--test-samples", "64", "--batch-size", "64", "--warmup-steps", "2"];
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Foresight.Training;

namespace Foresight.Bench;

/// <summary>One operation's share of a phase's CPU samples (both threads counted).</summary>
public sealed record OperationShare(string Operation, double Share);

/// <summary>One phase of a step: its median wall time and, when perf sampled it, its top operations.</summary>
public sealed record PhaseProfile(StepPhase Phase, double MedianMilliseconds, int Samples, IReadOnlyList<OperationShare> Operations);

/// <summary>
/// Where one training step's time goes: forward, backward, clip and optimizer timed by the step itself, and the
/// native operations inside each from Linux perf's CPU samples, when perf is on the PATH. <see cref="Sampler"/>
/// says which ("perf" or "none").
/// </summary>
public sealed record StepProfile(int Steps, string Sampler, IReadOnlyList<PhaseProfile> Phases);

/// <summary>
/// Samples this process with <c>perf record -k mono</c> while steps run, then gives each sample to the phase whose
/// timestamps hold it. Stopwatch timestamps are CLOCK_MONOTONIC on Linux, the clock perf is told to use.
/// </summary>
public static partial class StepProfiler
{
    public const int TopOperations = 8;

    /// <summary>Runs <paramref name="step"/> <paramref name="steps"/> times with phases recorded; sampled by perf where it can be.</summary>
    public static StepProfile Profile(int steps, Action<StepPhases> step, string scratchDirectory)
    {
        var phases = new StepPhases();
        using var perf = PerfSession.TryStart(Path.Combine(scratchDirectory, "perf.data"));
        for (int i = 0; i < steps; i++) step(phases);
        var samples = perf?.Stop() ?? [];
        return Summarize(steps, perf is null ? "none" : "perf", phases.Spans, samples);
    }

    internal static StepProfile Summarize(int steps, string sampler, IReadOnlyList<PhaseSpan> spans, IReadOnlyList<PerfSample> samples)
    {
        var byPhase = new Dictionary<StepPhase, List<string>>();
        foreach (var sample in samples)
        {
            var span = spans.FirstOrDefault(s => s.Start <= sample.Timestamp && sample.Timestamp < s.End);
            if (span == default) continue; // between steps: the bench's own bookkeeping
            if (!byPhase.TryGetValue(span.Phase, out var names)) byPhase[span.Phase] = names = [];
            names.Add(OperationName(sample.Dso, sample.Symbol));
        }
        var profiles = spans.GroupBy(s => s.Phase).OrderBy(g => g.Key).Select(g =>
        {
            var names = byPhase.GetValueOrDefault(g.Key) ?? [];
            var top = names.GroupBy(n => n).OrderByDescending(n => n.Count()).Take(TopOperations)
                .Select(n => new OperationShare(n.Key, (double)n.Count() / names.Count)).ToList();
            return new PhaseProfile(g.Key, 1000 * Median(g.Select(s => s.Seconds)), names.Count, top);
        }).ToList();
        return new StepProfile(steps, sampler, profiles);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// A readable name for a sampled native function: libtorch's kernels by their kernel's name and element type,
    /// the multiply libraries, OpenMP's waiting threads, the kernel, the allocator. Code generated at run time has no
    /// symbol: oneDNN's kernels (where the bf16 matmuls run) live in anonymous memory, which perf calls perf-PID.map;
    /// .NET's compiled methods (the Mamba's scan kernel, TorchSharp's calls) in .NET's double-mapped memory.
    /// </summary>
    internal static string OperationName(string dso, string symbol)
    {
        string library = Path.GetFileName(dso);
        if (dso == "[kernel.kallsyms]") return "kernel (page faults, scheduling)";
        if (library.StartsWith("libgomp", StringComparison.Ordinal)) return "OpenMP (threads waiting or waking)";
        if (symbol.StartsWith("mkl_blas", StringComparison.Ordinal)) return "fp32 matmul (MKL)";
        if (symbol.StartsWith("mkl_vml", StringComparison.Ordinal)) return "vector math (MKL)";
        if (symbol.Contains("dnnl", StringComparison.Ordinal) || symbol.Contains("brgemm", StringComparison.Ordinal)) return "bf16 matmul (oneDNN)";
        if (dso.StartsWith("/memfd:doublemapper", StringComparison.Ordinal)) return ".NET code (Foresight's own kernels, TorchSharp's calls)";
        if (library.StartsWith("perf-", StringComparison.Ordinal) && library.EndsWith(".map", StringComparison.Ordinal)) return "generated native code (oneDNN's kernels: the bf16 matmuls)";
        if (symbol is "" or "[unknown]") return $"{library} (no symbol)";
        if (library.StartsWith("libc.so", StringComparison.Ordinal)) return symbol.Contains("mem", StringComparison.Ordinal) ? "memcpy/memset" : "malloc/free";
        if (!library.StartsWith("libtorch", StringComparison.Ordinal)) return $"{library}: {Shorten(symbol)}";
        string kernel = KernelName().Match(symbol) is { Success: true } m ? m.Groups[1].Value : Shorten(symbol);
        return symbol.Contains("BFloat16", StringComparison.Ordinal) ? $"{kernel} (bf16)" : kernel;
    }

    /// <summary>The innermost named kernel in a libtorch symbol: add_kernel, LayerNormKernelImplInternal, _vec_softmax_lastdim, ...</summary>
    [GeneratedRegex(@"(?:::|\b)(\w+?(?:_kernel|Kernel\w*|_lastdim\w*|_impl|Impl\w*))\b")]
    private static partial Regex KernelName();

    /// <summary>A C++ name without its template arguments and parameters.</summary>
    private static string Shorten(string symbol)
    {
        int cut = symbol.IndexOfAny(['<', '(']);
        return cut > 0 ? symbol[..cut] : symbol;
    }

    internal readonly record struct PerfSample(long Timestamp, string Dso, string Symbol);

    /// <summary>
    /// A perf line of <c>perf script -F time,ip,sym,dso --ns</c>: "33357.441797371:  ffffffff82242009 pvm_irq_enable ([kernel.kallsyms])".
    /// The time (seconds) becomes Stopwatch ticks.
    /// </summary>
    internal static PerfSample? ParseSample(string line)
    {
        int colon = line.IndexOf(':');
        if (colon < 0 || !decimal.TryParse(line[..colon].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal seconds)) return null;
        string rest = line[(colon + 1)..].Trim();
        int open = rest.EndsWith(')') ? MatchingParenthesis(rest) : -1; // the library, which may hold parentheses: "(/memfd:doublemapper (deleted))"
        string dso = open >= 0 ? rest[(open + 1)..^1] : "";
        string body = open >= 0 ? rest[..open].TrimEnd() : rest;
        int space = body.IndexOf(' ');
        string symbol = space >= 0 ? body[(space + 1)..].Trim() : "[unknown]";
        return new PerfSample((long)(seconds * Stopwatch.Frequency), dso, symbol);
    }

    /// <summary>The index of the "(" that the string's last ")" closes; -1 if none does.</summary>
    private static int MatchingParenthesis(string text)
    {
        int depth = 0;
        for (int i = text.Length - 1; i >= 0; i--)
        {
            if (text[i] == ')') depth++;
            else if (text[i] == '(' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>perf recording this process, started and stopped from inside it.</summary>
    private sealed class PerfSession : IDisposable
    {
        private readonly Process _recorder;
        private readonly string _file;

        private PerfSession(Process recorder, string file) => (_recorder, _file) = (recorder, file);

        public static PerfSession? TryStart(string file)
        {
            if (!OperatingSystem.IsLinux()) return null;
            try
            {
                var recorder = Process.Start(new ProcessStartInfo("perf", ["record", "-q", "-F", "1999", "-k", "mono", "-p", Environment.ProcessId.ToString(), "-o", file])
                    { RedirectStandardError = true, RedirectStandardOutput = true });
                if (recorder is null) return null;
                var clock = Stopwatch.StartNew();
                while (!(File.Exists(file) && new FileInfo(file).Length > 0) && !recorder.HasExited && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(20);
                Thread.Sleep(200); // the file's header is written before the counters are on
                if (recorder.HasExited) return null;
                return new PerfSession(recorder, file);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null; // no perf on the PATH
            }
        }

        public IReadOnlyList<PerfSample> Stop()
        {
            Interrupt(_recorder.Id);
            _recorder.WaitForExit();
            var script = Process.Start(new ProcessStartInfo("perf", ["script", "-i", _file, "-F", "time,ip,sym,dso", "--ns"])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var samples = new List<PerfSample>();
            script.ErrorDataReceived += (_, _) => { };
            script.BeginErrorReadLine();
            while (script.StandardOutput.ReadLine() is { } line)
                if (ParseSample(line) is { } sample) samples.Add(sample);
            script.WaitForExit();
            return samples;
        }

        public void Dispose()
        {
            if (!_recorder.HasExited) _recorder.Kill();
            _recorder.Dispose();
            File.Delete(_file);
            File.Delete(_file + ".old");
        }

        private static void Interrupt(int pid)
        {
            if (Kill(pid, 2) != 0) throw new InvalidOperationException($"could not stop perf (pid {pid})");
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);
    }
}

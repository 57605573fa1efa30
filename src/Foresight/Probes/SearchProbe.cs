using Foresight.Methods;
using Foresight.Search;
using Foresight.Tasks;

namespace Foresight.Probes;

/// <summary>What search with the verifier adds to a model's greedy answer, and what it costs.</summary>
public sealed record SearchProbeResult(int Examples, SearchMetrics Greedy, SearchMetrics Backtrack, SearchMetrics BestOfK);

/// <summary>
/// The optimists' answer, measured: the same model decoded greedily, by best of k samples the verifier
/// picks from, and by depth-first backtracking the verifier prunes, with tokens written per instance.
/// </summary>
public sealed class SearchProbe : IProbe
{
    public const string Name = "search";
    public const int Samples = 4;

    string IProbe.Name => Name;
    public string Description => $"decode with the task's verifier: greedy, best of {Samples} samples, backtracking; accuracy and tokens written per instance";
    public bool TakesExamples => true;
    public Type ResultType => typeof(SearchProbeResult);

    public static bool Applies(ITrainingMethod method, ITask task) => method is IStepwiseDecoder { VariableOrder: null } && task is IVerifiableTask;

    public string? WhyNot(ITrainingMethod method, ITask task, Runs.RunConfig config) =>
        method is IStepwiseDecoder { VariableOrder: { } why } ? why
        : Applies(method, task) ? null : $"{config.Method} does not write one token at a time, or {task.Description} has no verifier";

    object IProbe.Run(ProbeContext c) => Run(c.Method, c.Task, ProbeData.Examples(c.Task, c.Sizes.CleverHansExamples, c.Config.Training.Seed), c.Config.Training.Seed);

    public IReadOnlyList<ProbeColumn> Columns =>
    [
        new("backtrack", r => ((SearchProbeResult)r).Backtrack.ExactMatch),
        new("search tok", r => ((SearchProbeResult)r).Backtrack.TokensPerInstance, IsRate: false),
    ];

    public IReadOnlyList<ReportColumn> ReportColumns =>
    [
        new($"search: best of {Samples} / backtrack", results =>
            $"{Presentation.Format.AcrossSeeds([.. results.Cast<SearchProbeResult>().Select(r => r.BestOfK.ExactMatch)])} / " +
            $"{Presentation.Format.AcrossSeeds([.. results.Cast<SearchProbeResult>().Select(r => r.Backtrack.ExactMatch)])}"),
        new("backtrack: tokens per instance", results => results.Count == 0 ? "-" : $"{results.Cast<SearchProbeResult>().Average(r => r.Backtrack.TokensPerInstance):F1}"),
    ];

    public string ReportLegend =>
        $"*search*: the same model decoded with the task's verifier: the first of {Samples} samples (temperature 1) it accepts, and a depth-first search over " +
        "the model's ranked tokens that it prunes; *tokens per instance* counts every token the search wrote, including those it took back (greedy: the answer length).";

    public ProbeTable Describe(object result)
    {
        var r = (SearchProbeResult)result;
        return new ProbeTable(["measure", "exact match", "tokens / instance", "model calls / instance"],
            [.. new[] { r.Greedy, r.BestOfK, r.Backtrack }.Select(m => new[]
            {
                m.Decode, Presentation.Format.Proportion(m.ExactMatch, m.Examples), $"{m.TokensPerInstance:F2}", $"{m.ModelCallsPerInstance:F2}",
            })],
            $"{r.Examples:N0} fresh examples; samples at temperature 1, the verifier picks; {Presentation.Format.Percent(r.BestOfK.SampleAcceptance ?? double.NaN)} of single samples are right");
    }

    public static SearchProbeResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int seed)
    {
        if (!Applies(method, task))
            throw new UserError($"the search probe needs a run of a method that writes one token at a time ({MethodRegistry.Having<IStepwiseDecoder>()}, or {MethodRegistry.Having<IFineTuning>()} from one) on a task with a verifier");
        using var data = new TokenDataset(task, examples);
        SearchMetrics With(ISearchDecoder decoder) => SearchDecoding.Evaluate(method, task, data, decoder);
        return new SearchProbeResult(examples.Count, With(new GreedyDecoder()), With(new Backtracking(Backtracking.DefaultBudget)),
            With(new VerifiedSampling(Samples, temperature: 1, seed)));
    }
}

using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>One layer's linear probe, scored on held-out examples.</summary>
/// <param name="Layer">0: the embeddings; k: after block k.</param>
/// <param name="BranchAccuracy">The probe's best branch among the source's d arms is the goal's (chance 1/d).</param>
/// <param name="NodeAccuracy">The probe's argmax over every label is the first decision node.</param>
/// <param name="ShuffledBranchAccuracy">The same probe fitted to shuffled labels: what the probe reaches with no information.</param>
/// <param name="GoalAccuracy">
/// Positive control: a probe for the answer's last token (path-star: the goal, which the prefix
/// states) over every label. High values show node identities can be read from this layer at all.
/// </param>
public sealed record LayerProbe(int Layer, double BranchAccuracy, double NodeAccuracy, double ShuffledBranchAccuracy, double GoalAccuracy);

public sealed record PlanningProbeResult(int TrainExamples, int HeldOutExamples, double Chance, LayerProbe[] Layers)
{
    public LayerProbe Best => Layers.MaxBy(l => l.BranchAccuracy)!;
}

/// <summary>
/// Seed 002's question: does the model represent the plan before it writes it? Freeze the model,
/// take the hidden state at every layer at the last prefix position ('=', before any answer token),
/// and fit a linear classifier for the first decision node on one split; score it on the other.
/// </summary>
public sealed class PlanningProbe : IProbe
{
    public const string Name = "plan";

    string IProbe.Name => Name;
    public string Description => "linear probe per layer at '=' for the first decision node: is the plan represented before it is written?";
    public bool TakesExamples => true;
    public Type ResultType => typeof(PlanningProbeResult);

    public string? WhyNot(ITrainingMethod method, ITask task, Runs.RunConfig config) =>
        method is not IPrefixStates ? $"{config.Method} does not expose hidden states"
        : task is not IBranchingTask ? $"{task.Description} has no branches for a plan to choose among"
        : null;

    object IProbe.Run(ProbeContext c) =>
        Run(c.Method, c.Task, ProbeData.Examples(c.Task, c.Sizes.PlanningExamples, c.Config.Training.Seed), c.Config.Training.Seed);

    public IReadOnlyList<ProbeColumn> Columns => [new("plan probe", r => ((PlanningProbeResult)r).Best.BranchAccuracy)];

    public IReadOnlyList<ReportColumn> ReportColumns =>
    [
        new("plan probe: best layer", results => results.Count == 0 ? "-"
            : string.Join(", ", results.Cast<PlanningProbeResult>().Select(r => $"{Presentation.Format.Percent(r.Best.BranchAccuracy)} (layer {r.Best.Layer})"))),
    ];

    public string ReportLegend =>
        "*plan probe*: a linear classifier on the hidden state at '=' picks the goal's arm among the source's arms (chance 1/d), " +
        "scored on held-out examples; the best layer is shown.";

    /// <summary>Branch accuracy per layer, the mean of each row's seeds.</summary>
    public ProbeFigure Figure => new("Planning probe per layer", "planning_probe.png", (path, series, chance) =>
        Presentation.Figures.Lines(path, "Linear probe at '=' for the first decision (held out)", "layer (0 = embeddings)", "branch accuracy",
            [.. series.Select(s =>
            {
                var y = Presentation.Format.Mean([.. s.Results.Select(r => ((PlanningProbeResult)r.Result).Layers.Select(l => l.BranchAccuracy).ToArray())]);
                return new Presentation.Line(s.Results.Count > 1 ? $"{s.Name} (mean of {s.Results.Count} seeds)" : s.Name,
                    [.. Enumerable.Range(0, y.Length).Select(i => (double)i)], y);
            })],
            chance, markers: true));

    public string ReportSection(IReadOnlyList<ProbeSeries> series)
    {
        var plans = series.SelectMany(s => s.Results.Select(r => (s.Name, r.Seed, Plan: (PlanningProbeResult)r.Result))).ToList();
        int layers = plans.Max(p => p.Plan.Layers.Length);
        return "### Planning probe per layer: branch accuracy (shuffled-label control; positive control: goal node)\n\n" +
               Presentation.Format.MarkdownTable(["run", .. Enumerable.Range(0, layers).Select(l => l == 0 ? "embeddings" : $"block {l}")], 1,
                   plans.Select(p => (IReadOnlyList<string>)[$"{p.Name} seed {p.Seed}", .. p.Plan.Layers.Select(l =>
                       $"{Presentation.Format.Percent(l.BranchAccuracy)} ({Presentation.Format.Percent(l.ShuffledBranchAccuracy)}; goal {Presentation.Format.Percent(l.GoalAccuracy)})")]));
    }

    public ProbeTable Describe(object result)
    {
        var r = (PlanningProbeResult)result;
        return new ProbeTable(["measure", $"branch (chance {Presentation.Format.Percent(r.Chance)})", "node (any label)", "shuffled labels", "control: goal"],
            [.. r.Layers.Select(l => new[]
            {
                l.Layer == 0 ? "embeddings" : $"after block {l.Layer}", Presentation.Format.Percent(l.BranchAccuracy), Presentation.Format.Percent(l.NodeAccuracy),
                Presentation.Format.Percent(l.ShuffledBranchAccuracy), Presentation.Format.Percent(l.GoalAccuracy),
            })],
            $"linear probe at '=', fitted on {r.TrainExamples:N0} examples, scored on {r.HeldOutExamples:N0} held out");
    }

    public static PlanningProbeResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int seed, double heldOutFraction = 0.2)
    {
        if (method is not IPrefixStates model)
            throw new UserError("the planning probe reads the model's hidden states, and this method's model does not expose them");
        var branching = ProbeData.Branching(task, "planning");
        int heldOut = (int)Math.Round(examples.Count * heldOutFraction);
        if (heldOut < 1 || heldOut >= examples.Count)
            throw new UserError($"the planning probe needs examples on both sides of its split; {examples.Count} is too few");

        using var scope = NewDisposeScope();
        var states = PrefixStates(method, model, task, examples); // (L + 1, N, C)
        var labels = tensor(examples.Select(e => (long)e.Target[task.FirstDecisionPosition]).ToArray()); // (N,)
        var goals = tensor(examples.Select(e => (long)e.Target[^1]).ToArray()); // (N,)
        var candidates = ProbeData.Rows(
            examples.Select(e => branching.Branches(e).Select(b => b[task.FirstDecisionPosition]).ToArray()).ToList(), 0, examples.Count); // (N, d)
        var shuffled = labels.index_select(0, Training.Trainer.Permutation(examples.Count, SeededRandom.For(seed, "probe-shuffle")));

        int fit = examples.Count - heldOut;
        var layers = new List<LayerProbe>();
        for (int layer = 0; layer < states.shape[0]; layer++)
        {
            var x = states[layer];
            var (trainX, testX) = (x.narrow(0, 0, fit), x.narrow(0, fit, heldOut));
            var (testY, testCandidates) = (labels.narrow(0, fit, heldOut), candidates.narrow(0, fit, heldOut));
            using var probe = LinearProbe.Fit(trainX, labels.narrow(0, 0, fit), task.VocabularySize);
            using var control = LinearProbe.Fit(trainX, shuffled.narrow(0, 0, fit), task.VocabularySize);
            using var goal = LinearProbe.Fit(trainX, goals.narrow(0, 0, fit), task.VocabularySize);
            layers.Add(new LayerProbe(layer,
                BranchAccuracy: probe.CandidateAccuracy(testX, testY, testCandidates),
                NodeAccuracy: probe.Accuracy(testX, testY),
                ShuffledBranchAccuracy: control.CandidateAccuracy(testX, testY, testCandidates),
                GoalAccuracy: goal.Accuracy(testX, goals.narrow(0, fit, heldOut))));
        }
        return new PlanningProbeResult(fit, heldOut, task.FirstDecisionChance, layers.ToArray());
    }

    private static Tensor PrefixStates(ITrainingMethod method, IPrefixStates model, ITask task, IReadOnlyList<Example> examples, int batchSize = 500)
    {
        using var data = new TokenDataset(task, examples);
        var parts = new List<Tensor>();
        using (Evaluation.Evaluator.Inference(method.Model))
            for (int start = 0; start < examples.Count; start += batchSize)
                parts.Add(model.PrefixStates(data.Slice(start, batchSize).Prefix));
        return cat(parts, 1);
    }
}

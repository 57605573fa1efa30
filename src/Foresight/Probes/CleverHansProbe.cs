using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>What the Clever-Hans probe measured. Rates are fractions in [0, 1].</summary>
/// <param name="FollowRate">Forced continuations that went on along the wrong branch to its end, token for token.</param>
/// <param name="FollowRateBeforeLast">Continuations that followed the wrong branch at every step before the last token.</param>
/// <param name="EndsAtGoalRate">Continuations whose last token is the true answer's (for path-star: the goal, copied from the query).</param>
/// <param name="FollowRateByPosition">Per target position from <paramref name="FirstFreePosition"/> on: the generated token is the wrong branch's.</param>
/// <param name="TeacherForcedByPosition">Per target position: the argmax given the true earlier tokens is right.</param>
/// <param name="LaterTeacherForced">Mean of <paramref name="TeacherForcedByPosition"/> after the first decision.</param>
public sealed record CleverHansResult(
    int Examples,
    int ForcedContinuations,
    int FirstFreePosition,
    double FollowRate,
    double FollowRateBeforeLast,
    double EndsAtGoalRate,
    double[] FollowRateByPosition,
    double[] TeacherForcedByPosition,
    double FirstDecisionTeacherForced,
    double LaterTeacherForced);

/// <summary>
/// The talk's Clever-Hans test: force a wrong first decision (the first node of another arm) after
/// the true source and let the model go on. A model that learned "copy the child of the previous
/// token" follows the wrong arm edge by edge, with no regard for the goal.
/// </summary>
public sealed class CleverHansProbe : IProbe
{
    public const string Name = "clever-hans";

    string IProbe.Name => Name;
    public string Description => "force a wrong first decision and measure how often the model follows the wrong arm; teacher-forced accuracy per position";
    public bool TakesExamples => true;
    public Type ResultType => typeof(CleverHansResult);

    public string? WhyNot(ITrainingMethod method, ITask task, Runs.RunConfig config) =>
        method is not ILeftToRightDecoder ? $"{config.Method} does not write the answer left to right in task order"
        : task is not IBranchingTask ? $"{task.Description} has no branches to force a wrong one"
        : null;

    object IProbe.Run(ProbeContext c) => Run(c.Method, c.Task, ProbeData.Examples(c.Task, c.Sizes.CleverHansExamples, c.Config.Training.Seed));

    public IReadOnlyList<ProbeColumn> Columns => [new("CH follow", r => ((CleverHansResult)r).FollowRateBeforeLast)];

    public IReadOnlyList<ReportColumn> ReportColumns =>
    [
        new("Clever-Hans: follows wrong arm (before last / to the end)", results =>
            $"{Presentation.Format.AcrossSeeds(Of(results, r => r.FollowRateBeforeLast))} / {Presentation.Format.AcrossSeeds(Of(results, r => r.FollowRate))}"),
        new("ends at goal", results => Presentation.Format.AcrossSeeds(Of(results, r => r.EndsAtGoalRate))),
    ];

    public string ReportLegend =>
        "*Clever-Hans*: after the true source and a forced wrong first node, the share of greedy continuations that follow the " +
        "wrong arm at every step before the last token, and to its leaf; *ends at goal*: the last token is the goal anyway.";

    public ProbeTable Describe(object result)
    {
        var r = (CleverHansResult)result;
        string Pct(double v) => Presentation.Format.Percent(v);
        return new ProbeTable(["measure", "value"],
        [
            ["follows the forced wrong arm to its end", $"{Pct(r.FollowRate)} of {r.ForcedContinuations:N0}"],
            ["follows it at every step before the last", Pct(r.FollowRateBeforeLast)],
            ["ends with the goal token anyway", Pct(r.EndsAtGoalRate)],
            [$"follow rate by position ({r.FirstFreePosition}..)", Presentation.Format.Row(r.FollowRateByPosition)],
            ["teacher-forced, first decision", Pct(r.FirstDecisionTeacherForced)],
            ["teacher-forced, later positions", Pct(r.LaterTeacherForced)],
            ["teacher-forced by position", Presentation.Format.Row(r.TeacherForcedByPosition)],
        ]);
    }

    private static List<double> Of(IReadOnlyList<object> results, Func<CleverHansResult, double> value) => [.. results.Cast<CleverHansResult>().Select(value)];

    public static CleverHansResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int batchSize = 500)
    {
        if (method is not ILeftToRightDecoder decoder)
            throw new UserError("the Clever-Hans probe forces a wrong first decision and lets the model go on, so it needs a method that writes the answer left to right in task order (such as ntp)");
        var branching = ProbeData.Branching(task, "Clever-Hans");
        int decision = task.FirstDecisionPosition, targetLength = task.TargetLength, free = decision + 1;
        if (free >= targetLength) throw new UserError($"in {task.Description} the first decision is the last answer token: there is nothing after it to follow");

        var prefixes = new List<int[]>();
        var wrongBranches = new List<int[]>();
        var trueTargets = new List<int[]>();
        foreach (var example in examples)
            foreach (var branch in branching.Branches(example).Where(b => !b.SequenceEqual(example.Target)))
            {
                prefixes.Add(example.Prefix);
                wrongBranches.Add(branch);
                trueTargets.Add(example.Target);
            }
        if (wrongBranches.Count == 0) throw new UserError($"{task.Description} has a single branch: there is no wrong first decision to force");

        var followed = new long[targetLength - free];
        long followedToTheEnd = 0, followedBeforeLast = 0, endedAtGoal = 0;
        var forcedCorrect = new long[targetLength];
        using (Evaluator.Inference(method.Model))
        {
            for (int start = 0; start < wrongBranches.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(batchSize, wrongBranches.Count - start);
                var prefix = ProbeData.Rows(prefixes, start, count);      // (R, P)
                var wrong = ProbeData.Rows(wrongBranches, start, count);  // (R, T)
                var generated = decoder.Continue(prefix, wrong.narrow(1, 0, free)); // (R, T)
                var same = generated.narrow(1, free, targetLength - free).eq(wrong.narrow(1, free, targetLength - free)); // (R, T - free)
                followedToTheEnd += same.all(1).sum().item<long>();
                followedBeforeLast += same.narrow(1, 0, targetLength - free - 1).all(1).sum().item<long>();
                var trueLast = ProbeData.Rows(trueTargets, start, count).select(1, -1);
                endedAtGoal += generated.select(1, -1).eq(trueLast).sum().item<long>();
                Evaluator.Accumulate(followed, same);
            }
            using var data = new TokenDataset(task, examples);
            for (int start = 0; start < examples.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = data.Slice(start, batchSize);
                Evaluator.Accumulate(forcedCorrect, method.TeacherForced(batch).eq(batch.Target));
            }
        }

        double[] teacherForced = forcedCorrect.Select(c => (double)c / examples.Count).ToArray();
        return new CleverHansResult(
            Examples: examples.Count,
            ForcedContinuations: wrongBranches.Count,
            FirstFreePosition: free,
            FollowRate: (double)followedToTheEnd / wrongBranches.Count,
            FollowRateBeforeLast: (double)followedBeforeLast / wrongBranches.Count,
            EndsAtGoalRate: (double)endedAtGoal / wrongBranches.Count,
            FollowRateByPosition: followed.Select(c => (double)c / wrongBranches.Count).ToArray(),
            TeacherForcedByPosition: teacherForced,
            FirstDecisionTeacherForced: teacherForced[decision],
            LaterTeacherForced: teacherForced.Skip(free).DefaultIfEmpty(double.NaN).Average());
    }
}

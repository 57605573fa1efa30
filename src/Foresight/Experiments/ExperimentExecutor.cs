using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Experiments;

/// <summary>What the executor hands its trainer for one cell: the run's directory, its data, and whether to resume.</summary>
public sealed record CellTraining(ExperimentCell Cell, RunDirectory Run, TokenDataset Train, TokenDataset Test, bool Resume);

/// <summary>A cell's finished run.</summary>
public sealed record CellResult(ExperimentCell Cell, string Path, RunResult Result);

/// <summary>
/// Runs any plan (compare, curve and experiment files all build one): each cell in its directory under the
/// experiment's root, in plan order. A finished cell is read, not trained again; an interrupted one resumes from
/// its checkpoint; a directory holding another config is refused before anything is trained. The root holds
/// plan.json, the last plan run in it (<see cref="Plan"/>), from which a job array's task runs its one cell.
/// </summary>
public sealed class ExperimentExecutor(string root, Func<CellTraining, RunResult> train, Action<string>? log = null)
{
    /// <summary>In a cell's directory while a process trains it: "HOST PID", so --status can tell a run in progress from an interrupted one.</summary>
    public const string RunningFile = "running";

    public string Root { get; } = root;

    /// <summary>
    /// Trains every cell that has not finished, then calls <paramref name="afterCell"/> on every cell, finished before or
    /// now, in plan order (compare runs its probes there: they skip what a cell already has). With
    /// <paramref name="only"/>, the plan is written whole but only that cell (0-based) is run: one task of a job array.
    /// </summary>
    public IReadOnlyList<CellResult> Run(Plan plan, Action<CellResult>? afterCell = null, int? only = null)
    {
        var cells = plan.Cells;
        if (only is { } index && (index < 0 || index >= cells.Count))
            throw new ArgumentOutOfRangeException(nameof(only), index, $"the plan has {cells.Count} cells");
        PrepareRoot(plan);
        var selected = only is { } one ? [cells[one]] : cells;
        var existing = selected.ToDictionary(c => c.Id, Existing); // refuses a foreign directory before anything trains
        foreach (var cell in selected.Where(c => c.CheckBeforeStart && existing[c.Id] is not { Finished: true })) Trainer.CheckBuilds(cell.Config);

        var results = new List<CellResult>();
        int skipped = 0;
        using var data = new DataCache();
        foreach (var cell in selected)
        {
            var state = existing[cell.Id];
            RemoveLeftovers(Path.Combine(Root, cell.Id), keepRunning: state is not { Finished: true });
            if (cell.StartsFrom is { } from && state is not { Finished: true } && !File.Exists(Path.Combine(Root, from, RunDirectory.SummaryFileName)))
                throw new UserError($"{cell.Id} starts from {from}, which has not finished");
            RunResult result;
            if (state is { Finished: true })
            {
                result = state.Run.ReadResult();
                skipped++;
            }
            else
            {
                string running = Path.Combine(Root, cell.Id, RunningFile);
                if (state is null && File.Exists(running)) File.Delete(running); // left by a process killed before it wrote config.json
                var run = state?.Run ?? RunDirectory.Create(Path.Combine(Root, cell.Id));
                var (trainSet, testSet) = data.For(cell);
                File.WriteAllText(running, $"{Environment.MachineName} {Environment.ProcessId}\n");
                try { result = train(new CellTraining(cell, run, trainSet, testSet, Resume: state is { Started: true })); }
                catch
                {
                    // The training's own error is the one to report, not a failed delete (a read-only directory refuses both).
                    try { File.Delete(running); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                    throw;
                }
                File.Delete(running); // a killed process leaves it: --status checks the pid, and the next process removes it
            }
            var done = new CellResult(cell, Path.Combine(Root, cell.Id), result);
            afterCell?.Invoke(done);
            results.Add(done);
        }
        if (skipped > 0) log?.Invoke($"{skipped} of {selected.Count} runs had already finished and were not trained again");
        return results;
    }

    /// <summary>
    /// Writes the plan into the root (as <see cref="Run"/> does) and returns the indices of the cells that have not
    /// finished, for an executor that hands each to a job of its own; a foreign directory is refused here too.
    /// </summary>
    public IReadOnlyList<int> Pending(Plan plan)
    {
        PrepareRoot(plan);
        return [.. plan.Cells.Select((c, i) => (Cell: c, Index: i)).Where(x => Existing(x.Cell) is not { Finished: true }).Select(x => x.Index)];
    }

    /// <summary>
    /// Checks the plan, and writes it into a fresh root or one that holds an earlier plan: anything else is not ours to
    /// write into. An unchanged plan.json is left as it is (every task of an array reads it at once).
    /// </summary>
    private void PrepareRoot(Plan plan)
    {
        var cells = plan.Cells;
        if (cells.Count == 0) throw new UserError("the experiment has no runs");
        if (cells.Select(c => c.Id).Distinct().Count() != cells.Count) throw new UserError("two runs of the experiment have the same directory");
        foreach (var (cell, index) in cells.Select((c, i) => (c, i)))
            if (cell.StartsFrom is { } from && cells.Take(index).All(c => c.Id != from))
                throw new ArgumentException($"{cell.Id} starts from {from}, which is not an earlier cell of the plan", nameof(plan));
        if (File.Exists(Root)) throw new UserError($"'{Root}' is a file, not an experiment directory");
        string file = Path.Combine(Root, Plan.FileName);
        if (Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any() && !File.Exists(file))
            throw new UserError($"'{Root}' already exists and is not empty, and holds no {Plan.FileName} of an experiment to resume; choose another --out");
        Directory.CreateDirectory(Root);
        var json = plan.ToJson();
        if (!File.Exists(file) || JsonNode.Parse(File.ReadAllText(file))?.ToJsonString() != json.ToJsonString()) Json.WriteAtomic(file, json);
    }

    /// <summary><see cref="Started"/>: it has a training checkpoint to resume from.</summary>
    private sealed record CellState(RunDirectory Run, bool Finished, bool Started = true);

    /// <summary>
    /// What a process killed in this cell left behind, now that this process has the cell: half-written temporary files,
    /// and the "running" file of a process killed after the cell finished (a cell still to train gets its own below).
    /// </summary>
    private static void RemoveLeftovers(string directory, bool keepRunning)
    {
        AtomicFile.RemoveLeftovers(directory);
        if (!keepRunning && File.Exists(Path.Combine(directory, RunningFile))) File.Delete(Path.Combine(directory, RunningFile));
    }

    /// <summary>The cell's directory if it already holds this very run; an error if it holds another.</summary>
    private CellState? Existing(ExperimentCell cell)
    {
        string directory = Path.Combine(Root, cell.Id);
        if (!File.Exists(Path.Combine(directory, "config.json")))
        {
            if (Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(f => Path.GetFileName(f) != RunningFile && !AtomicFile.IsTemporary(f)))
                throw new UserError($"'{directory}' holds files but no config.json; remove it to train it again");
            return null;
        }
        var run = RunDirectory.Open(directory);
        if (run.ReadConfig().ToJson().ToJsonString() != cell.Config.ToJson().ToJsonString())
            throw new UserError($"'{directory}' holds a run with another config than the experiment asks for; use another --out");
        bool finished = File.Exists(run.SummaryFile);
        if (!finished && !File.Exists(run.TrainingCheckpointFile))
            return run.NeverTrained(RunningFile) ? new CellState(run, Finished: false, Started: false)
                : throw new UserError($"'{directory}' holds a started run with no checkpoint to resume from; remove it to train it again");
        return new CellState(run, finished);
    }

    /// <summary>
    /// The last training and test sets made, kept while the next cell asks for the same (a compare's methods share
    /// one seed's data); the sets are deterministic in the task, seed and sizes (the training set skips the test set's
    /// problems), so sharing changes no number.
    /// </summary>
    private sealed class DataCache : IDisposable
    {
        private (string Key, TokenDataset Data)? _train, _test;

        public (TokenDataset Train, TokenDataset Test) For(ExperimentCell cell)
        {
            var config = cell.Config.Training;
            string task = cell.Config.Task.ToString();
            var test = Get(ref _test, $"{task}/{config.Seed}/{config.TestSamples}", () => Trainer.MakeTestSet(cell.Task, config));
            return (Get(ref _train, $"{task}/{config.Seed}/{config.TrainSamples}/{config.TestSamples}/{config.TestSet}", () => Trainer.MakeTrainingSet(cell.Task, config, test)), test);
        }

        private static TokenDataset Get(ref (string Key, TokenDataset Data)? slot, string key, Func<TokenDataset> make)
        {
            if (slot is { } held && held.Key == key) return held.Data;
            slot?.Data.Dispose();
            slot = (key, make());
            return slot.Value.Data;
        }

        public void Dispose()
        {
            _train?.Data.Dispose();
            _test?.Data.Dispose();
        }
    }
}

/// <summary>
/// The seeds of one group of a plan (one method variant, task, model and budget) pooled: the one aggregate every
/// experiment writes. <see cref="Runs"/> are the cells' directories. <see cref="TrainExactMatch"/> is on each run's
/// training sample (null when no run has one); <see cref="Verdict"/> is where its runs stood when they stopped, in a
/// few words (<see cref="Runs.Convergence.Summarise"/>).
/// </summary>
public sealed record GroupResult(
    string Group, string Method, string Label, string Task, Models.ModelSize Model, int TrainSamples, int Epochs, int BatchSize, double LearningRate,
    int Seeds, Estimate ExactMatch, Estimate FirstDecisionAccuracy, double FirstDecisionChance, Estimate TeacherForcedAccuracy, double TrainSeconds,
    IReadOnlyList<string> Runs, Estimate? TrainExactMatch = null, string Verdict = "-", CreativityEstimate? Creativity = null)
{
    /// <summary>Which sets the group fits, judged on its mean exact matches; null without training-set numbers.</summary>
    public Fit? Fits => TrainExactMatch is null ? null : Evaluation.Fits.Of(TrainExactMatch.Mean, ExactMatch.Mean);

    /// <summary>Groups in the order their first cell appears in the plan.</summary>
    public static List<GroupResult> Aggregate(IReadOnlyList<CellResult> results) =>
        [.. results.GroupBy(r => r.Cell.Group, StringComparer.Ordinal).Select(group =>
        {
            var config = group.First().Cell.Config;
            var tests = group.Select(r => r.Result.Test).ToList();
            return new GroupResult(group.Key, config.Method, config.Label, config.Task.Label, config.Model,
                config.Training.TrainSamples, config.Training.Epochs, config.Training.BatchSize, config.Training.LearningRate,
                group.Count(), Estimate.Of(tests.Select(t => t.ExactMatch)), Estimate.Of(tests.Select(t => t.FirstDecisionAccuracy)),
                tests[0].FirstDecisionChance, Estimate.Of(tests.Select(t => t.TeacherForcedAccuracy)),
                group.Sum(r => r.Result.Training.TrainSeconds), [.. group.Select(r => r.Path)],
                group.All(r => r.Result.TrainSet is not null) ? Estimate.Of(group.Select(r => r.Result.TrainSet!.ExactMatch)) : null,
                Foresight.Runs.Convergence.Summarise(group.Select(r => r.Result.Convergence)),
                tests.All(t => t.Creativity is not null) ? CreativityEstimate.Of([.. tests.Select(t => t.Creativity!)]) : null);
        })];
}

/// <summary>
/// An open-ended task's creativity and its parts over a group's seeds; the generation settings of its first run. The
/// estimates after <see cref="Prefix"/> (Nagarajan et al.'s own metric, and what a sampler could score) are null when a
/// run was scored before they were measured.
/// </summary>
public sealed record CreativityEstimate(Estimate Creativity, Estimate Coherence, Estimate Uniqueness, Estimate Originality, int Samples, double Temperature, string Prefix,
    Estimate? PaperCreativity = null, Estimate? PaperDiversity = null, Estimate? PaperSeen = null, Estimate? CoherentOriginality = null,
    Estimate? BaseRate = null, Estimate? Ceiling = null)
{
    public static CreativityEstimate Of(IReadOnlyList<Evaluation.CreativityMetrics> runs) => new(
        Estimate.Of(runs.Select(r => r.Creativity)), Estimate.Of(runs.Select(r => r.Coherence)), Estimate.Of(runs.Select(r => r.Uniqueness)),
        Estimate.Of(runs.Select(r => r.Originality)), runs[0].Samples, runs[0].Temperature, runs[0].Prefix,
        All(runs, r => r.PaperCreativity), All(runs, r => r.PaperDiversity), All(runs, r => r.PaperSeen), All(runs, r => r.CoherentOriginality),
        All(runs, r => r.BaseRate), All(runs, r => r.Ceiling));

    private static Estimate? All(IReadOnlyList<Evaluation.CreativityMetrics> runs, Func<Evaluation.CreativityMetrics, double?> part) =>
        runs.All(r => part(r) is not null) ? Estimate.Of(runs.Select(r => part(r)!.Value)) : null;
}

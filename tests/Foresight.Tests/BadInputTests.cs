namespace Foresight.Tests;

/// <summary>A finished tiny run, a good and a malformed data file, and a directory that already holds files.</summary>
public sealed class BadInputFixture : IDisposable
{
    public TempDirectory Temp { get; } = new();

    public BadInputFixture()
    {
        var run = Cli.Run(["train", "--method", "ntp", "--out", Temp["run"], .. Cli.TinyRun]);
        if (run.ExitCode != 0) throw new InvalidOperationException(run.Stderr);
        File.WriteAllText(Temp["graphs.txt"], "0,1|1,2|2,3|0,4|4,5|5,6/0,3=0,1,2,3\n");
        File.WriteAllText(Temp["bad.txt"], "1,2|3,4/1,4=1,2\n");
        Directory.CreateDirectory(Temp["full"]);
        File.WriteAllText(Temp["full/notes.txt"], "keep");
        File.WriteAllText(Temp["experiment.json"], """{"methods": ["ntp"], "seedz": [1]}""");
        var report = Cli.Run(["report", "--runs", Temp["run"]]);
        if (report.ExitCode != 0) throw new InvalidOperationException(report.Stderr);
    }

    public void Dispose() => Temp.Dispose();
}

/// <summary>
/// The README's table of bad inputs, row by row: each is one line on stderr starting "error: ",
/// exit code 2, and what was already on disk is untouched. {dir} stands for the fixture's directory.
/// </summary>
public sealed class BadInputTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    [Theory]
    [InlineData("train --method nextoken", "unknown method 'nextoken' (known: bst, diffusion, grpo, mtp, nextlat, ntp, reverse, teacherless)")]
    [InlineData("data --degree 5 --path-length 5 --nodes 20 --out {dir}/x.txt", "--nodes is 20, but G(5,5,20) needs 1 + 5x(5-1) = 21 distinct node labels")]
    [InlineData("train --epochz 2", "Unrecognized command or argument '--epochz'")]
    [InlineData("train --degree two", "--degree must be a whole number, got 'two'")]
    [InlineData("train --width 100 --heads 3", "--width 100 must be divisible by --heads 3")]
    [InlineData("train --lr -1", "--lr must be a positive number, got -1")]
    [InlineData("train --batch-size 0", "--batch-size must be at least 1, got 0")]
    [InlineData("train --out {dir}/full", "'{dir}/full' already exists and is not empty; choose another --out")]
    [InlineData("eval --run {dir}/nowhere", "run directory '{dir}/nowhere' does not exist")]
    [InlineData("eval --run {dir}/run --data {dir}/bad.txt", "{dir}/bad.txt:1: expected 6 edges for G(2,4,20), found 2")]
    [InlineData("eval --run {dir}/run --data {dir}/missing.txt", "data file '{dir}/missing.txt' does not exist")]
    [InlineData("data --degree 2 --path-length 4 --nodes 20 --out {dir}/graphs.txt", "'{dir}/graphs.txt' already exists; refusing to overwrite it")]
    [InlineData("compare --seeds 0 --out {dir}/c0", "--seeds must be at least 1, got 0")]
    [InlineData("train --resume {dir}/run", "run '{dir}/run' already finished (it has a summary.json); nothing to resume")]
    [InlineData("run {dir}/experiment.json", "{dir}/experiment.json: unknown field 'seedz' (known: tasks, methods, seeds, models, budgets, training, about)")]
    [InlineData("runs list --root {dir} --filter colour=red", "--filter 'colour=red' is not key=value with a key among id, method, task, seed, status")]
    [InlineData("export --run {dir}/run --format onnx", "unknown export format 'onnx' (known: safetensors, pytorch)")]
    [InlineData("train --loss-positions last", "--loss-positions must be 'all' or 'first-decision', got 'last'")]
    [InlineData("probe clever-hans --run {dir}/run --examples 1", "--examples must be at least 2, got 1")]
    [InlineData("probe plans --run {dir}/run", "Unrecognized command or argument 'plans'")]
    [InlineData("train --method diffusion --diffusion-temperature -1", "--diffusion-temperature must be a finite number >= 0 (0: argmax), got -1")]
    [InlineData("train --method diffusion --diffusion-weighting cosine", "--diffusion-weighting must be 'elbo', 'uniform' or 'linear', got 'cosine'")]
    [InlineData("train --method diffusion --diffusion-attention sideways", "--diffusion-attention must be 'bidirectional', 'causal' or 'causal-prefix', got 'sideways'")]
    [InlineData("train --method diffusion --diffusion-shift --diffusion-neighbours", "--diffusion-neighbours already reads each token at the position before it (and after it): drop --diffusion-shift")]
    [InlineData("train --method ntp --mtp-heads 2 --out {dir}/m2", "--mtp-heads applies to mtp, not ntp")]
    [InlineData("compare --methods ntp,reverse --diffusion-steps 2 --out {dir}/c2", "--diffusion-steps applies to diffusion, not ntp, reverse")]
    [InlineData("train --method mtp --mtp-heads two", "--mtp-heads must be a whole number, got 'two'")]
    [InlineData("train --config {dir}/run/config.json --layers 2 --out {dir}/c3", "--config takes every setting from {dir}/run/config.json; drop --layers")]
    [InlineData("train --weight-decay-on biases", "--weight-decay-on must be 'matrices' or 'all', got 'biases'")]
    [InlineData("train --method mtp --mtp-heads 0", "--mtp-heads must be at least 1 (1: plain next-token prediction), got 0")]
    [InlineData("train --method mtp --mtp-heads 9 --out {dir}/m9", "--mtp-heads 9 exceeds the answer length 5: head k needs a target k tokens after the last prefix token")]
    [InlineData("train --method nextlat --nextlat-kl-weight -1", "--nextlat-kl-weight must be a finite number >= 0, got -1")]
    [InlineData("train --method nextlat --nextlat-dynamics gru", "--nextlat-dynamics must be 'mlp' or 'residual', got 'gru'")]
    [InlineData("train --method nextlat --nextlat-horizon 0", "--nextlat-horizon must be at least 1 (1: predict the next hidden state only), got 0")]
    [InlineData("train --method nextlat --nextlat-horizon 40 --out {dir}/n40", "--nextlat-horizon must be below the 31 positions of a teacher-forced input, got 40")]
    [InlineData("train --method bst --loss-positions first-decision --out {dir}/b1", "bst trains on (prefix, suffix) pairs, not on single target positions; --loss-positions applies to ntp, reverse and teacherless")]
    [InlineData("train --positions rotary --width 30 --heads 10", "--positions rotary needs an even width per head, got --width 30 / --heads 10 = 3")]
    [InlineData("train --positions absolute", "--positions must be 'learned' or 'rotary', got 'absolute'")]
    [InlineData("probe steps --run {dir}/run", "the steps probe does not apply to this run: ntp has no denoising steps to vary")]
    [InlineData("eval --run {dir}/run --decode beam", "--decode must be greedy, sample:K or backtrack, got 'beam'")]
    [InlineData("eval --run {dir}/run --decode sample:4 --temperature 0", "--temperature must be positive for sampling, got 0")]
    [InlineData("eval --run {dir}/run --decode backtrack --search-budget 0", "--search-budget must be at least 1, got 0")]
    [InlineData("eval --run {dir}/run --decode backtrack --diffusion-steps 2", "--decode and --diffusion-steps cannot be combined: --decode is for autoregressive runs")]
    [InlineData("train --method grpo --out {dir}/g0", "--init is missing: grpo fine-tunes a saved run, give its directory")]
    [InlineData("train --method grpo --init {dir}/run --path-length 5 --out {dir}/g1", "--init '{dir}/run' cannot start this grpo run: its task is G(2,4,20), this run's is G(2,5,50)")]
    [InlineData("train --method grpo --init {dir}/run --layers 2 --out {dir}/g2", "--init '{dir}/run' cannot start this grpo run: its model is 1 x 32 (2 heads, learned positions); give the same --layers, --width, --heads and --positions")]
    [InlineData("train --method grpo --init {dir}/run --grpo-group-size 1", "--grpo-group-size must be at least 2 (advantages compare the answers of one prompt), got 1")]
    [InlineData("train --task addition --degree 3", "--degree does not apply to --task addition (its options: --digits, --answer-order)")]
    [InlineData("data --task addition --degree 3 --count 2 --out {dir}/sums.txt", "--degree does not apply to --task addition (its options: --digits, --answer-order)")]
    [InlineData("train --task addition --digits 21", "--digits must be in 1..20, got 21")]
    [InlineData("train --task addition --answer-order middle", "--answer-order must be 'msb-first' or 'lsb-first', got 'middle'")]
    [InlineData("train --task cube", "--task must be one of addition, ")] // the whole list: TaskRegistryTests
    [InlineData("train --task circle --size 2", "--size of a circle must be at least 3 vertices, got 2")]
    [InlineData("train --task line --labels 4", "--labels must be in 6..1000 (at least the shape's --size), got 4")]
    [InlineData("train --task sibling --prefix hash", "--prefix must be 'seed' or 'null', got 'hash'")]
    [InlineData("train --task triangle --nodes 6 --edge-probability 0.1", "--edge-probability gives a graph with 0 triangles on 6 nodes: too few to show some and hold out 0.5 of them; raise it or --nodes")]
    [InlineData("train --task sibling --temperature -1", "--temperature must be a finite number >= 0 (0: greedy), got -1")]
    [InlineData("data --task circle --parents 3 --count 2 --out {dir}/circles.txt", "--parents does not apply to --task circle")]
    [InlineData("train --task planning --chain-length 2", "--chain-length must be in 3..50, got 2")]
    [InlineData("data --task planning --digits 3 --count 2 --out {dir}/chains.txt", "--digits does not apply to --task planning")]
    [InlineData("train --task planning --loss-positions first-decision", "--loss-positions first-decision needs one decision position; minimal planning (2 chains of 6) has its decision at a different place in each example")]
    [InlineData("train --method diffusion --diffusion-time-steps -1", "--diffusion-time-steps must not be negative (0: continuous time), got -1")]
    [InlineData("train --method diffusion --diffusion-focus-scale 0", "--diffusion-focus-scale must be a positive number, got 0")]
    [InlineData("train --method diffusion --diffusion-noise-prompt --diffusion-attention causal", "--diffusion-noise-prompt is full-sequence MDLM: it needs bidirectional attention and no neighbour readout")]
    [InlineData("curve --samples 3x --out {dir}/curve", "--samples: '3x' is not a count such as 3000, 3k or 1.5M")]
    [InlineData("bench --steps 0 --out {dir}/bench", "--steps must be at least 1, got 0")]
    [InlineData("bench --sizes 4by128 --out {dir}/bench", "--sizes '4by128' is not a size: write layers x width[x heads], e.g. 4x128 or 12x384x6")]
    [InlineData("bench --sizes 4x100x3 --out {dir}/bench", "--sizes '4x100x3': width 100 is not divisible by 3 heads")]
    [InlineData("bench --sizes 4x128 --layers 2 --out {dir}/bench", "give --sizes or --layers/--width/--heads, not both")]
    [InlineData("bench --backbones gpt,rnn --out {dir}/bench", "--backbones must be 'gpt' or 'mamba', got 'rnn'")]
    [InlineData("train --method diffusion --diffusion-focus -1", "--diffusion-focus must be a finite number >= 0 (0: off), got -1")]
    [InlineData("report --runs {dir}/full", "'{dir}/full' holds no runs (no config.json below it)")]
    [InlineData("report --runs {dir}/run", "{dir}/run/report.md already exists; pass --overwrite to replace it or --out to write elsewhere")]
    [InlineData("report --runs {dir}/run --out {dir}/axis --x-axis epochs", "--x-axis must be 'samples' or 'iterations', got 'epochs'")]
    public void Bad_input_is_one_line_exit_code_2_and_touches_nothing(string command, string message)
    {
        string dir = fixture.Temp.Path;
        var before = Snapshot(dir);
        var result = Cli.Run(command.Replace("{dir}", dir).Split(' '));

        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message.Replace("{dir}", dir), line);
        Assert.Equal(before, Snapshot(dir));
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
}

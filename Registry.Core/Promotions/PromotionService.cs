using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Persistence;

namespace Registry.Core.Promotions;

/// <summary>
/// Promotion requests: open, approve, reject, cancel, and apply. A request is applied, in one
/// transaction, the moment its gates pass and its approvals reach the policy's count: the version
/// moves, the previous production version (for a move to production) moves to Archived first, and
/// each move writes a history row and an audit event. The gates are evaluated again inside that
/// transaction, so a request opened before production changed is judged against the new production
/// version. Racing applications are optimistic: a version's stage is a concurrency token and at
/// most one version per model can be in production (a unique index); the loser is evaluated again.
/// </summary>
public sealed class PromotionService(
    IDbContextFactory<RegistryDbContext> dbFactory,
    WriteUnit writes,
    TimeProvider clock,
    AccessGuard guard,
    IOptions<PromotionOptions> options,
    PromotionSignal signal,
    PromotionQueries queries,
    Comparison.MetricDirections directions,
    ILogger<PromotionService> logger)
{
    public const int MaxCommentLength = 2000;

    private PromotionPolicy DefaultPolicy => options.Value.DefaultPolicy;

    /// <summary>Opens a request to move a version; it may be applied at once when it needs no approval and its gates pass.</summary>
    public async Task<Result<PromotionView>> RequestAsync(string modelName, int versionNumber, PromotionRequestInput input, Actor actor,
        CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.RequestPromotion, ct) is { } denied) return denied;
        var target = ParseTarget(input.TargetStage);
        if (!target.IsSuccess) return target.Error!;
        if (CheckComment(input.Comment, "comment") is { } badComment) return badComment;

        var normalized = RegisteredModel.Normalize(modelName);
        var id = await InTransactionAsync<long>(async db =>
        {
            var version = await db.Versions.Include(v => v.Model)
                .SingleOrDefaultAsync(v => v.Model.NormalizedName == normalized && v.Number == versionNumber, ct);
            if (version is null) return await CatalogQueries.VersionNotFoundAsync(db, modelName, versionNumber, ct);
            var what = $"{version.Model.Name} v{version.Number}";
            var open = await db.PromotionRequests.AsNoTracking()
                .Where(r => r.VersionId == version.Id && r.Status == PromotionStatus.Open)
                .Select(r => new { r.Id, r.TargetStage }).FirstOrDefaultAsync(ct);
            if (open is not null)
                return new RegistryError(ErrorKind.Conflict, "Request already open",
                    $"{what} already has an open promotion request (#{open.Id}, to {open.TargetStage}). Approve, reject or cancel it first.");
            if (VersionLifecycle.CheckMove(what, version.Stage, target.Value) is { } refused) return refused;

            var now = clock.GetUtcNow();
            var evaluation = await PromotionFacts.EvaluateAsync(db, version.Model.Name, version.ModelId, version.Id, target.Value, DefaultPolicy, directions, ct);
            var request = new PromotionRequest
            {
                ModelId = version.ModelId,
                VersionId = version.Id,
                FromStage = version.Stage,
                TargetStage = target.Value,
                Status = PromotionStatus.Open,
                RequestedBy = actor.AuditName,
                RequestedByUserId = actor.UserId!.Value,
                Comment = Trimmed(input.Comment),
                CreatedAt = now,
            };
            Record(request, evaluation, now);
            db.PromotionRequests.Add(request);
            await db.SaveChangesAsync(ct); // the request's number, for the audit event
            db.Record(now, actor, "promotion.requested", $"version:{version.Model.Name}/{version.Number}",
                after: new { promotion = request.Id, from = version.Stage.ToString(), to = target.Value.ToString(), request.Comment,
                    gatesPassed = evaluation.GatesPass, requiredApprovals = evaluation.RequiredApprovals });
            if (evaluation.GatesPass && evaluation.RequiredApprovals == 0)
                await ApplyAsync(db, request, version, evaluation, actor, now, ct);
            return request.Id;
        }, ct);
        if (!id.IsSuccess) return id.Error!;
        signal.Announce(modelName);
        return await queries.GetAsync(id.Value, ct);
    }

    /// <summary>Records an approval (never the requester's) and applies the request when it is ready.</summary>
    public async Task<Result<PromotionView>> ApproveAsync(long requestId, DecisionInput input, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Approve, ct) is { } denied) return denied;
        if (CheckComment(input.Comment, "comment") is { } badComment) return badComment;
        return await DecideAsync(requestId, actor, ct, async (db, request, version, now) =>
        {
            if (request.RequestedByUserId == actor.UserId)
                return RegistryError.Forbidden(
                    $"You requested promotion #{request.Id}; someone else must approve it (four eyes), whatever your role.");
            if (request.Votes.Any(v => v.UserId == actor.UserId))
                return new RegistryError(ErrorKind.Conflict, "Already decided",
                    $"You already approved promotion #{request.Id}; one person's approval counts once.");
            request.Votes.Add(new PromotionVote
            {
                UserId = actor.UserId!.Value, Actor = actor.AuditName, Decision = PromotionDecision.Approve, Comment = Trimmed(input.Comment), At = now,
            });
            var (evaluation, approvals, ready) = await JudgeAsync(db, request, ct);
            Record(request, evaluation, now);
            db.Record(now, actor, "promotion.approved", $"version:{version.Model.Name}/{version.Number}",
                after: new { promotion = request.Id, approvals, requiredApprovals = evaluation.RequiredApprovals, gatesPassed = evaluation.GatesPass, input.Comment });
            if (ready)
                await ApplyAsync(db, request, version, evaluation, actor, now, ct);
            return request.Id;
        });
    }

    /// <summary>Closes a request with a reason. The requester withdraws with cancel instead.</summary>
    public async Task<Result<PromotionView>> RejectAsync(long requestId, DecisionInput input, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.Approve, ct) is { } denied) return denied;
        if (string.IsNullOrWhiteSpace(input.Comment))
            return RegistryError.Invalid("Reason needed", "A rejection says why, so the requester knows what to change: send a comment.",
                new Dictionary<string, string[]> { ["comment"] = ["A rejection needs a comment."] });
        if (CheckComment(input.Comment, "comment") is { } badComment) return badComment;
        return await DecideAsync(requestId, actor, ct, (db, request, version, now) =>
        {
            if (request.RequestedByUserId == actor.UserId)
                return Task.FromResult<Result<long>>(new RegistryError(ErrorKind.Conflict, "Your own request",
                    $"You requested promotion #{request.Id}; withdraw (cancel) it instead.", See: RegistryLink.CancelPromotion(request.Id)));
            if (request.Votes.Any(v => v.UserId == actor.UserId))
                return Task.FromResult<Result<long>>(new RegistryError(ErrorKind.Conflict, "Already decided",
                    $"You already approved promotion #{request.Id}; a person decides a request once. Another approver can reject it, or its requester can cancel it."));
            request.Votes.Add(new PromotionVote
            {
                UserId = actor.UserId!.Value, Actor = actor.AuditName, Decision = PromotionDecision.Reject, Comment = Trimmed(input.Comment), At = now,
            });
            Close(request, PromotionStatus.Rejected, actor, input.Comment, now);
            db.Record(now, actor, "promotion.rejected", $"version:{version.Model.Name}/{version.Number}",
                after: new { promotion = request.Id, input.Comment });
            return Task.FromResult<Result<long>>(request.Id);
        });
    }

    /// <summary>Withdraws a request: its requester, or an admin.</summary>
    public async Task<Result<PromotionView>> CancelAsync(long requestId, DecisionInput input, Actor actor, CancellationToken ct = default)
    {
        if (await guard.DemandAsync(actor, Permission.RequestPromotion, ct) is { } denied) return denied;
        if (CheckComment(input.Comment, "comment") is { } badComment) return badComment;
        return await DecideAsync(requestId, actor, ct, async (db, request, version, now) =>
        {
            if (request.RequestedByUserId != actor.UserId)
            {
                var role = await db.Users.AsNoTracking().Where(u => u.Id == actor.UserId).Select(u => u.Role).SingleAsync(ct);
                if (role < Role.Admin)
                    return RegistryError.Forbidden(
                        $"Only the requester ({request.RequestedBy}) or an admin can cancel promotion #{request.Id}; approvers reject it with a reason instead.");
            }
            Close(request, PromotionStatus.Cancelled, actor, input.Comment, now);
            db.Record(now, actor, "promotion.cancelled", $"version:{version.Model.Name}/{version.Number}",
                after: new { promotion = request.Id, input.Comment });
            return request.Id;
        });
    }

    /// <summary>
    /// Applies every open request that has become ready without anyone acting: its validation
    /// finished, a metric was logged, the policy changed, or the server restarted in between.
    /// Requests that are not ready are left exactly as they are.
    /// </summary>
    public async Task<int> ApplyReadyAsync(CancellationToken ct)
    {
        var applied = 0;
        long after = 0;
        while (true)
        {
            List<long> batch;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                batch = await db.PromotionRequests.AsNoTracking().Where(r => r.Status == PromotionStatus.Open && r.Id > after)
                    .OrderBy(r => r.Id).Select(r => r.Id).Take(200).ToListAsync(ct);
            if (batch.Count == 0) return applied;
            after = batch[^1];
            foreach (var id in batch)
            {
                try
                {
                    // Looked at without the write lock first: most open requests are waiting, and stay as they are.
                    if (!await LooksReadyAsync(id, ct)) continue;
                    var result = await InTransactionAsync<string?>(async db =>
                    {
                        var request = await LoadOpenAsync(db, id, ct);
                        if (request is null) return Result<string?>.Ok(null);
                        var (evaluation, _, ready) = await JudgeAsync(db, request, ct);
                        if (!ready) return Result<string?>.Ok(null); // not ready after all: nothing is written
                        var now = clock.GetUtcNow();
                        Record(request, evaluation, now);
                        await ApplyAsync(db, request, request.Version, evaluation, Actor.Registry, now, ct);
                        return request.Version.Model.Name;
                    }, ct, saveOnSuccess: model => model is not null);
                    if (result is { IsSuccess: true, Value: { } model })
                    {
                        applied++;
                        signal.Announce(model);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One request that cannot be evaluated must not hold up the others.
                    logger.LogError(ex, "Could not evaluate promotion request #{Promotion}; it stays open", id);
                }
            }
        }
    }

    private async Task<bool> LooksReadyAsync(long id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await LoadOpenAsync(db, id, ct) is { } request && (await JudgeAsync(db, request, ct)).Ready;
    }

    /// <summary>The request's gates as they stand, the approvals that count, and whether together they let it be applied.</summary>
    private async Task<(Evaluation Evaluation, int Approvals, bool Ready)> JudgeAsync(RegistryDbContext db, PromotionRequest request, CancellationToken ct)
    {
        var version = request.Version;
        var evaluation = await PromotionFacts.EvaluateAsync(db, version.Model.Name, version.ModelId, version.Id, request.TargetStage, DefaultPolicy, directions, ct);
        var approvals = await PromotionFacts.CountingApprovalsAsync(db, request, ct);
        return (evaluation, approvals, evaluation.GatesPass && approvals >= evaluation.RequiredApprovals);
    }

    private delegate Task<Result<long>> Decision(RegistryDbContext db, PromotionRequest request, ModelVersion version, DateTimeOffset now);

    private async Task<Result<PromotionView>> DecideAsync(long requestId, Actor actor, CancellationToken ct, Decision decide)
    {
        string? model = null;
        var id = await InTransactionAsync<long>(async db =>
        {
            var request = await db.PromotionRequests.Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model)
                .SingleOrDefaultAsync(r => r.Id == requestId, ct);
            if (request is null)
                return RequestNotFound(requestId);
            model = request.Version.Model.Name;
            if (request.Status != PromotionStatus.Open)
                return new RegistryError(ErrorKind.Conflict, $"Request {request.Status.ToString().ToLowerInvariant()}",
                    $"Promotion #{request.Id} is already {request.Status} ({request.ClosedBy}, {request.ClosedAt:yyyy-MM-dd HH:mm} UTC); it cannot change any more. Open a new request if needed.");
            return await decide(db, request, request.Version, clock.GetUtcNow());
        }, ct);
        if (!id.IsSuccess) return id.Error!;
        signal.Announce(model ?? "");
        return await queries.GetAsync(id.Value, ct);
    }

    private static async Task<PromotionRequest?> LoadOpenAsync(RegistryDbContext db, long id, CancellationToken ct) =>
        await db.PromotionRequests.Include(r => r.Votes).Include(r => r.Version).ThenInclude(v => v.Model)
            .SingleOrDefaultAsync(r => r.Id == id && r.Status == PromotionStatus.Open, ct);

    /// <summary>Stores an evaluation on the request; notes when production changed since the last one.</summary>
    private static void Record(PromotionRequest request, Evaluation evaluation, DateTimeOffset now)
    {
        if (request.Id != 0 && request.BaselineVersion != evaluation.BaselineVersion)
            request.Note = $"Production changed from {Describe(request.BaselineVersion)} to {Describe(evaluation.BaselineVersion)} after this request " +
                $"was evaluated; its gates were evaluated again against {Describe(evaluation.BaselineVersion)}.";
        request.Gates = evaluation.Gates.ToList();
        request.EvaluatedAt = now;
        request.BaselineVersion = evaluation.BaselineVersion;
        request.RequiredApprovals = evaluation.RequiredApprovals;

        static string Describe(int? version) => version is { } v ? $"v{v}" : "no version";
    }

    /// <summary>Moves the version (and production's previous holder), writes history and audit events, closes the request.</summary>
    private async Task ApplyAsync(RegistryDbContext db, PromotionRequest request, ModelVersion version, Evaluation evaluation, Actor actor,
        DateTimeOffset now, CancellationToken ct)
    {
        var model = version.Model;
        var approvedBy = request.Votes.Where(v => v.Decision == PromotionDecision.Approve).Select(v => v.Actor).ToList();
        if (request.TargetStage == Stage.Production && evaluation.Production is { } current && current.Id != version.Id)
        {
            var previous = await db.Versions.SingleAsync(v => v.Id == current.Id, ct);
            previous.Stage = Stage.Archived;
            db.ModelHistory.Add(new ModelHistoryEntry
            {
                ModelId = model.Id, Kind = HistoryKind.Stage, At = now, VersionId = previous.Id, FromStage = Stage.Production, ToStage = Stage.Archived,
                Actor = actor.AuditName, Reason = $"Replaced in production by v{version.Number} (promotion #{request.Id}).", PromotionId = request.Id,
            });
            db.Record(now, actor, "stage.changed", $"version:{model.Name}/{previous.Number}",
                before: new { stage = nameof(Stage.Production) },
                after: new { stage = nameof(Stage.Archived), promotion = request.Id, replacedBy = version.Number });
            // A request still open on the version that just left production asked for a move from a
            // stage it is no longer in; it is closed rather than left open for ever.
            var stranded = await db.PromotionRequests.SingleOrDefaultAsync(r => r.VersionId == previous.Id && r.Status == PromotionStatus.Open, ct);
            if (stranded is not null)
            {
                Close(stranded, PromotionStatus.Cancelled, Actor.Registry,
                    $"v{previous.Number} left production when promotion #{request.Id} put v{version.Number} there.", now);
                db.Record(now, Actor.Registry, "promotion.cancelled", $"version:{model.Name}/{previous.Number}",
                    after: new { promotion = stranded.Id, supersededBy = request.Id });
            }
            // The previous version leaves production before the new one enters: the one-production
            // index holds at every step, and the history rows are in the order things happened.
            await db.SaveChangesAsync(ct);
        }

        var from = version.Stage;
        version.Stage = request.TargetStage;
        model.UpdatedAt = now;
        Close(request, PromotionStatus.Applied, actor, null, now);
        db.ModelHistory.Add(new ModelHistoryEntry
        {
            ModelId = model.Id, Kind = HistoryKind.Stage, At = now, VersionId = version.Id, FromStage = from, ToStage = request.TargetStage,
            Actor = actor.AuditName, Reason = request.Comment ?? $"Promotion #{request.Id}.", PromotionId = request.Id,
        });
        db.Record(now, actor, "stage.changed", $"version:{model.Name}/{version.Number}",
            before: new { stage = from.ToString() },
            after: new { stage = request.TargetStage.ToString(), promotion = request.Id, requestedBy = request.RequestedBy, approvedBy });
        logger.LogInformation("Promotion #{Promotion}: {Model} v{Version} moved {From} → {To} ({Actor})",
            request.Id, model.Name, version.Number, from, request.TargetStage, actor.AuditName);
    }

    private static void Close(PromotionRequest request, PromotionStatus status, Actor actor, string? comment, DateTimeOffset now)
    {
        request.Status = status;
        request.ClosedAt = now;
        request.ClosedBy = actor.AuditName;
        request.CloseComment = Trimmed(comment);
    }

    /// <summary>Runs promotion work in the write unit; a conflict runs it again on what the database now holds.</summary>
    private Task<Result<T>> InTransactionAsync<T>(Func<RegistryDbContext, Task<Result<T>>> work, CancellationToken ct,
        Func<T, bool>? saveOnSuccess = null) =>
        writes.RunAsync((db, _) => work(db),
            "The model's stages changed while this was being applied, again and again. Look at the request again and retry", ct, saveOnSuccess);

    public static Result<Stage> ParseTarget(string? text)
    {
        if (Rules.ParseName<Stage>(text) is { } stage && stage != Stage.None)
            return stage;
        return RegistryError.Invalid("Invalid target stage",
            text is null ? "targetStage is needed: Staging, Production or Archived." : $"targetStage '{text}' is not a stage a version can move to; use Staging, Production or Archived.",
            new Dictionary<string, string[]> { ["targetStage"] = ["Use Staging, Production or Archived."] });
    }

    internal static RegistryError RequestNotFound(long id) =>
        RegistryError.NotFound($"There is no promotion request #{id}. List the promotion requests to see which exist.") with { See = RegistryLink.Promotions };

    internal static RegistryError? CheckComment(string? comment, string field) =>
        comment is { Length: > MaxCommentLength }
            ? RegistryError.Invalid("Comment too long", $"A {field} has at most {MaxCommentLength} characters; this one has {comment.Length}.",
                new Dictionary<string, string[]> { [field] = [$"At most {MaxCommentLength} characters."] })
            : null;

    private static string? Trimmed(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

/// <summary>
/// Tells open pages that promotions, stages or aliases of a model changed, and wakes the worker that
/// applies requests that became ready, on every instance (through the <see cref="IChangeSignal"/>).
/// </summary>
public sealed class PromotionSignal
{
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly IChangeSignal _changes;

    public PromotionSignal(IChangeSignal changes)
    {
        _changes = changes;
        changes.Received += OnReceived;
    }

    /// <summary>Raised with the model's name ("" when it is not known).</summary>
    public event Action<string>? Changed;

    public void Announce(string model) => _changes.Publish(new ChangeNotice(ChangeTopics.PromotionChanged, model, 0));

    /// <summary>
    /// Wakes this instance's worker only (news that may make a request ready: a validation finished, a
    /// metric was logged). Its sweep reads the database, so one instance's worker covers them all.
    /// </summary>
    public void Nudge()
    {
        if (_wake.CurrentCount < 64) _wake.Release();
    }

    /// <summary>Waits for news or the timeout; news that arrived meanwhile is taken together (one sweep covers it all).</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        var woken = await _wake.WaitAsync(timeout, ct);
        while (_wake.CurrentCount > 0 && _wake.Wait(0, CancellationToken.None)) { }
        return woken;
    }

    private void OnReceived(ChangeNotice notice)
    {
        if (notice.Topic is not (ChangeTopics.PromotionChanged or ChangeTopics.Resync)) return;
        Nudge();
        Changed?.Invoke(notice.Model ?? "");
    }
}

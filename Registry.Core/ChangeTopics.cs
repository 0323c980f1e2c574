namespace Registry.Core;

/// <summary>The topics of <see cref="ChangeNotice"/>: what a receiver should wake up or refresh.</summary>
public static class ChangeTopics
{
    /// <summary>Validation work arrived or returned (wakes validation workers) and a run changed (refreshes pages).</summary>
    public const string ValidationWork = "validation.work";

    /// <summary>A validation run changed state: pages only.</summary>
    public const string ValidationChanged = "validation.changed";

    /// <summary>Promotions, stages or aliases of a model changed: pages, and the worker that applies ready requests.</summary>
    public const string PromotionChanged = "promotion.changed";

    /// <summary>Notices may have been missed (the signal reconnected): everything looks again.</summary>
    public const string Resync = "resync";
}

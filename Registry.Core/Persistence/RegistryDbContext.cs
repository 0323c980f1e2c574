using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Registry.Core.Access;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Promotions;
using Registry.Core.Validation;

namespace Registry.Core.Persistence;

/// <summary>
/// The registry's catalogue, provider-neutral. A provider subclass (Registry.Data) supplies the
/// database-specific conventions; entity configurations live beside the domain in this assembly.
/// </summary>
public class RegistryDbContext(DbContextOptions options) : IdentityUserContext<RegistryUser, long>(options)
{
    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();
    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<Artifact> Artifacts => Set<Artifact>();
    public DbSet<Metric> Metrics => Set<Metric>();
    public DbSet<VersionParent> VersionParents => Set<VersionParent>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<ValidationRun> ValidationRuns => Set<ValidationRun>();
    public DbSet<VersionReference> VersionReferences => Set<VersionReference>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Setting> Settings => Set<Setting>();
    public DbSet<PromotionRequest> PromotionRequests => Set<PromotionRequest>();
    public DbSet<PromotionVote> PromotionVotes => Set<PromotionVote>();
    public DbSet<ModelAlias> ModelAliases => Set<ModelAlias>();
    public DbSet<ModelHistoryEntry> ModelHistory => Set<ModelHistoryEntry>();
    public DbSet<ModelPolicy> ModelPolicies => Set<ModelPolicy>();
    public DbSet<ProtectionKey> ProtectionKeys => Set<ProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder); // Identity's users, claims, logins, tokens
        modelBuilder.Entity<Microsoft.AspNetCore.Identity.IdentityUserClaim<long>>().ToTable("UserClaims");
        modelBuilder.Entity<Microsoft.AspNetCore.Identity.IdentityUserLogin<long>>().ToTable("UserLogins");
        modelBuilder.Entity<Microsoft.AspNetCore.Identity.IdentityUserToken<long>>().ToTable("UserTokens");
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RegistryDbContext).Assembly);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        SaveChangesAsync(acceptAllChangesOnSuccess).GetAwaiter().GetResult();

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        GuardImmutability();
        var events = ChangeTracker.Entries<AuditEvent>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (events.Count == 0) return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);

        // Chaining needs the last hash and the write to happen under one write lock: inside the
        // caller's transaction if there is one, else in one of our own.
        var own = Database.CurrentTransaction is null ? await Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            var previous = await AuditEvents.AsNoTracking().OrderByDescending(e => e.Id).Select(e => e.Hash).FirstOrDefaultAsync(cancellationToken);
            foreach (var e in events)
            {
                e.PreviousHash = previous ?? AuditChain.Genesis;
                e.Hash = AuditChain.HashOf(e);
                previous = e.Hash;
            }
            var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
            if (own is not null) await own.CommitAsync(cancellationToken);
            return saved;
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    /// <summary>
    /// Versions, artifacts, audit events, history, votes and lineage are facts: once written they are
    /// never rewritten or removed. Of a version, only the stage and validation status move, and the
    /// words about it (description, card; its tags are rows of their own) may be edited; lineage rows
    /// (parents, datasets) may be added to an existing version.
    /// </summary>
    private void GuardImmutability()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Modified or EntityState.Deleted)) continue;
            switch (entry.Entity)
            {
                case AuditEvent or Artifact or ModelHistoryEntry or PromotionVote:
                    throw new InvalidOperationException($"{entry.Entity.GetType().Name} rows are append-only.");
                // Lineage grows after upload (parents and datasets are added), but what is recorded stays.
                case VersionParent or DatasetRef:
                    throw new InvalidOperationException("Lineage rows are append-only: parents and datasets can be added, never changed or removed.");
                case ModelVersion when entry.State == EntityState.Deleted:
                    throw new InvalidOperationException("Versions are never deleted.");
                case ModelVersion:
                    var changed = entry.Properties
                        .Where(p => p.IsModified && p.Metadata.Name is not (nameof(ModelVersion.Stage) or nameof(ModelVersion.ValidationStatus)
                            or nameof(ModelVersion.Description) or nameof(ModelVersion.Card)))
                        .Select(p => p.Metadata.Name).ToList();
                    if (changed.Count > 0)
                        throw new InvalidOperationException($"Versions are immutable; attempted to change {string.Join(", ", changed)}.");
                    break;
            }
        }
    }
}

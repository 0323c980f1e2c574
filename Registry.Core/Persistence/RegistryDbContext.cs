using Microsoft.EntityFrameworkCore;
using Registry.Core.Auditing;
using Registry.Core.Catalog;
using Registry.Core.Validation;

namespace Registry.Core.Persistence;

/// <summary>
/// The registry's catalogue, provider-neutral. A provider subclass (Registry.Data) supplies the
/// database-specific conventions; entity configurations live beside the domain in this assembly.
/// </summary>
public class RegistryDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();
    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<Artifact> Artifacts => Set<Artifact>();
    public DbSet<Metric> Metrics => Set<Metric>();
    public DbSet<VersionParent> VersionParents => Set<VersionParent>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<ValidationRun> ValidationRuns => Set<ValidationRun>();
    public DbSet<VersionReference> VersionReferences => Set<VersionReference>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RegistryDbContext).Assembly);

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        GuardImmutability();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        GuardImmutability();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>
    /// Versions, artifacts and audit events are facts: once written they are never rewritten or
    /// removed. Only a version's stage and validation status move.
    /// </summary>
    private void GuardImmutability()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Modified or EntityState.Deleted)) continue;
            switch (entry.Entity)
            {
                case AuditEvent or Artifact:
                    throw new InvalidOperationException($"{entry.Entity.GetType().Name} rows are append-only.");
                case ModelVersion when entry.State == EntityState.Deleted:
                    throw new InvalidOperationException("Versions are never deleted.");
                case ModelVersion:
                    var changed = entry.Properties
                        .Where(p => p.IsModified && p.Metadata.Name is not (nameof(ModelVersion.Stage) or nameof(ModelVersion.ValidationStatus)))
                        .Select(p => p.Metadata.Name).ToList();
                    if (changed.Count > 0)
                        throw new InvalidOperationException($"Versions are immutable; attempted to change {string.Join(", ", changed)}.");
                    break;
            }
        }
    }
}

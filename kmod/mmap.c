// SPDX-License-Identifier: GPL-2.0
/*
 * weave: read-only mappings - the index map and entry views.
 *
 * Copyright (C) 2026 The weave authors
 *
 * The map of an attached file is the index followed by one span per slot
 * (index.c). A view is bound, at mmap() time, to the entry then in its
 * slot, and holds a reference to it; once that entry is deleted every
 * access faults with SIGBUS, even when a new entry reuses the slot, so a
 * view never shows another key's bytes in the entry's place. A sealed
 * entry's view keeps its pages instead: they never change, and the
 * entry's reference keeps them (store.c).
 *
 * Pages are inserted by the fault handler with vm_insert_page() while it
 * holds registry->lock, the same lock under which an entry is deleted,
 * moved or shrunk and its views zapped (weave_zap()); so a fault either
 * completes before the zap, which then removes its page, or sees the new
 * state. Lock order: mmap_lock, registry->lock, i_mmap_rwsem, page table
 * lock.
 *
 * Mappings are shared and, but for the writable views of grant.c, never
 * writable: VM_MAYWRITE and VM_MAYEXEC are cleared so mprotect() cannot
 * add them. They cannot grow either
 * (VM_DONTEXPAND, as for other driver mappings): mremap() refuses to
 * extend one past the range that mmap() checked (EFAULT), to duplicate
 * one (old size 0, EFAULT) and MREMAP_DONTUNMAP (EINVAL).
 */
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "internal.h"

/**
 * weave_zap() - remove the pages of a slot's span from every view
 * @reg: the registry, locked
 * @slot: slot number
 * @first: first page in the span
 * @nr: number of pages, at least 1
 *
 * Views refault afterwards, through weave_vm_fault().
 */
void weave_zap(struct weave_registry *reg, u32 slot, unsigned long first,
	       unsigned long nr)
{
	loff_t start = (loff_t)(weave_span_pgoff(reg, slot) + first) <<
		       PAGE_SHIFT;
	struct weave_file *wf;

	lockdep_assert_held(&reg->lock);
	list_for_each_entry(wf, &reg->files, node)
		unmap_mapping_range(wf->inode->i_mapping, start,
				    (loff_t)nr << PAGE_SHIFT, 1);
}

/*
 * The page a view shows at @pgoff: NULL when it shows nothing there
 * (SIGBUS), ERR_PTR(-ENOMEM) when the page could not be allocated.
 */
static struct page *weave_fault_page(struct weave_registry *reg,
				     struct vm_area_struct *vma, pgoff_t pgoff)
{
	struct weave_entry *e = vma->vm_private_data;
	unsigned long first;

	if (!e) {
		if (pgoff >= reg->index_pages)
			return NULL;
		/*
		 * A reader may map index pages no slot has used yet: memory
		 * touched by a fault, allocated as any fault's is (the memory
		 * cgroup may reclaim or kill rather than fail, unlike a store,
		 * which reports ENOMEM). Failing is not the reader's fault:
		 * VM_FAULT_OOM, as shmem does, not SIGBUS.
		 */
		return weave_index_page(reg, pgoff, GFP_KERNEL_ACCOUNT) ?:
		       ERR_PTR(-ENOMEM);
	}
	/* A sealed entry's pages outlive it; others' do not. */
	if (e->dead && !e->sealed)
		return NULL;
	first = weave_span_pgoff(reg, e->slot);
	if (pgoff < first)
		return NULL;
	return weave_store_page(reg, e, e->s->size,
				pgoff - first);
}

/**
 * weave_vm_insert() - finish a fault with the page found for it
 * @vmf: the fault
 * @page: the page, NULL for SIGBUS, or an ERR_PTR()
 *
 * Called with registry->lock held, so that a zap cannot come between
 * finding the page and mapping it.
 *
 * Return: what the fault handler returns.
 */
vm_fault_t weave_vm_insert(struct vm_fault *vmf, struct page *page)
{
	int err;

	if (!page)
		return VM_FAULT_SIGBUS;
	if (IS_ERR(page))
		return vmf_error(PTR_ERR(page));
	err = vm_insert_page(vmf->vma, vmf->address & PAGE_MASK, page);
	/* -EBUSY: another thread's fault mapped it first. */
	if (!err || err == -EBUSY)
		return VM_FAULT_NOPAGE;
	return vmf_error(err);
}

static vm_fault_t weave_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct weave_registry *reg = weave_file_reg(vma->vm_file);
	vm_fault_t ret;

	mutex_lock(&reg->lock);
	ret = weave_vm_insert(vmf, weave_fault_page(reg, vma, vmf->pgoff));
	mutex_unlock(&reg->lock);
	return ret;
}

/* A copy of a view (fork, split, mremap) references the entry too. */
static void weave_vm_open(struct vm_area_struct *vma)
{
	struct weave_registry *reg = weave_file_reg(vma->vm_file);
	struct weave_entry *e = vma->vm_private_data;

	if (e)
		refcount_inc(&e->ref);
	atomic_inc(&reg->nr_views);
}

static void weave_vm_close(struct vm_area_struct *vma)
{
	struct weave_registry *reg = weave_file_reg(vma->vm_file);
	struct weave_entry *e = vma->vm_private_data;

	if (e)
		weave_entry_put(e);
	atomic_dec(&reg->nr_views);
}

static const struct vm_operations_struct weave_vm_ops = {
	.open	= weave_vm_open,
	.close	= weave_vm_close,
	.fault	= weave_vm_fault,
};

/* The entry a view at @pgoff of @npages pages shows, with a reference. */
static struct weave_entry *weave_view_entry(struct weave_registry *reg,
					    pgoff_t pgoff,
					    unsigned long npages)
{
	u32 slot = weave_pgoff_slot(reg, pgoff, npages);
	struct weave_entry *e = NULL;
	struct weave_slot *s;

	if (!slot)
		return ERR_PTR(-EINVAL);

	mutex_lock(&reg->lock);
	s = weave_slot(reg, slot);
	if (s && s->key)
		e = weave_entry_lookup(reg, s->key);
	if (e)
		refcount_inc(&e->ref);
	mutex_unlock(&reg->lock);
	return e ?: ERR_PTR(-ENXIO);
}

/**
 * weave_fop_mmap() - map the index or an entry's view
 * @file: an attached file
 * @vma: the new mapping
 *
 * Read-only, but for a view mapped writable by the holder of its key's
 * exclusive lock (grant.c).
 *
 * Return: 0 or a negative errno.
 */
int weave_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct weave_registry *reg = weave_file_reg(file);
	unsigned long npages = vma_pages(vma);
	struct weave_entry *e = NULL;

	if (!reg)
		return -EBADFD;
	/* VM_MAYSHARE: do_mmap() drops VM_SHARED for read-only files. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EACCES;
	if (vma->vm_flags & VM_WRITE)
		return vma->vm_pgoff < reg->index_pages ? -EACCES :
		       weave_rw_mmap(file, vma);

	if (vma->vm_pgoff < reg->index_pages) {
		if (npages > reg->index_pages - vma->vm_pgoff)
			return -EINVAL;
	} else {
		e = weave_view_entry(reg, vma->vm_pgoff, npages);
		if (IS_ERR(e))
			return PTR_ERR(e);
	}

	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = e;
	vma->vm_ops = &weave_vm_ops;
	atomic_inc(&reg->nr_views);
	return 0;
}

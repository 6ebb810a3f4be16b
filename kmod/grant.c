// SPDX-License-Identifier: GPL-2.0
/*
 * weave: writable views - zero-copy writes for the exclusive lock holder.
 *
 * Copyright (C) 2026 The weave authors
 *
 * A file that holds a key's lock exclusively may map the entry's view
 * with PROT_WRITE. Such a mapping works while that file holds the lock
 * exclusively, and raises SIGBUS at any other time.
 *
 * Mapping it moves the entry to pages of its own if it lives in a cell
 * (a writable cell page would expose other entries). The first fault
 * through it in a lock period starts a *grant* (weave_entry.writer): the
 * slot's seq turns odd and stays odd for the whole grant, so lock-free
 * readers never take bytes that are being written; changes the writer
 * makes by ioctl meanwhile nest inside (entry.c).
 *
 * The grant ends when the file's exclusive hold ends - unlock, downgrade
 * to shared, the last close of the file, which the death of its process
 * brings - or when the entry is removed. Then the file's mappings of the
 * slot's span are zapped, so the next access faults (and gets SIGBUS, or
 * starts the next grant if the file holds the lock again), and the
 * period of writing is published as one change: one new gen, one
 * CHANGED event, the seq even again.
 *
 * A writable mapping must not keep the holder's file open, or closing it
 * would not release the lock. As dma-buf does (vma_set_file()), the vma
 * gets a file of its own whose f_mapping is the holder's mapping inode,
 * so the zap at revocation reaches it; that file holds what the fault
 * handler needs (&struct weave_rwmap), among it a reference to the
 * holder's inode, which names the holder: a file whose inode it is holds
 * the lock, or nobody does. A fork() child shares the parent's mapping
 * and with it the grant: the lock belongs to the open file, not to a
 * process.
 *
 * Everything runs under registry->lock; the fault takes it as a view's
 * does (mmap_lock, then registry->lock).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * struct weave_rwmap - what a writable mapping is bound to
 * @reg: the registry, with a reference to its memory.
 * @e: the entry, with a reference.
 * @inode: the mapping inode of the file that mapped it, with a
 *	reference: the mapping is in its i_mmap tree, and while the
 *	reference lasts no other file can have this inode.
 *
 * The private data of the mapping's own file, freed with it, after the
 * last vma that uses it.
 */
struct weave_rwmap {
	struct weave_registry *reg;
	struct weave_entry *e;
	struct inode *inode;
};

/*
 * Start a grant of @e to @wf: its change opened. Its pages are its own
 * since mmap() (weave_rw_entry()): values never move back into a cell.
 * Only one file at a time holds the exclusive lock, so no other grant of
 * @e is in force.
 */
static void weave_grant_begin(struct weave_file *wf, struct weave_entry *e)
{
	weave_slot_begin(e->s);
	e->writer = wf;
}

/*
 * The entry in @slot, with a reference, if @wf may map it writable;
 * moved out of its cell, so that its bytes start where the mapping does.
 */
static struct weave_entry *weave_rw_entry(struct weave_registry *reg,
					  struct weave_file *wf, u32 slot)
{
	struct weave_slot *s = weave_slot(reg, slot);
	struct weave_entry *e = NULL;
	int ret;

	lockdep_assert_held(&reg->lock);
	if (s && s->key)
		e = weave_entry_lookup(reg, s->key);
	if (!e)
		return ERR_PTR(-ENXIO);
	if (e->sealed || weave_lock_excl_holder(reg, e->hnode.key) != wf)
		return ERR_PTR(-EPERM);
	if (e->shift && !e->writer) {
		weave_slot_begin(s);
		ret = weave_store_unshare(reg, e, s->size);
		WRITE_ONCE(s->offset, weave_entry_offset(reg, e));
		weave_slot_end(s);
		if (ret)
			return ERR_PTR(ret);
	}
	refcount_inc(&e->ref);
	return e;
}

/**
 * weave_grant_end() - end a file's grant of a key, if it has one
 * @reg: the registry, locked
 * @wf: the file, whose exclusive hold of @key ends
 * @key: the key
 *
 * Revokes the file's writable mappings of the entry and publishes what
 * was written as one change.
 */
void weave_grant_end(struct weave_registry *reg, struct weave_file *wf,
		     u64 key)
{
	struct weave_entry *e = weave_entry_lookup(reg, key);

	if (!e || e->writer != wf)
		return;
	unmap_mapping_range(wf->inode->i_mapping,
			    (loff_t)weave_span_pgoff(reg, e->slot) << PAGE_SHIFT,
			    (loff_t)reg->span_pages << PAGE_SHIFT, 1);
	e->writer = NULL;
	weave_entry_changed(reg, wf, e, e->s, WEAVE_EV_CHANGED);
}

/*
 * The page of a writable mapping at @pgoff: NULL (SIGBUS) unless the
 * file that mapped it holds the key's lock exclusively, whose grant
 * starts here if it has not yet.
 */
static struct page *weave_rw_page(struct weave_rwmap *rw, pgoff_t pgoff)
{
	struct weave_registry *reg = rw->reg;
	struct weave_entry *e = rw->e;
	unsigned long first = weave_span_pgoff(reg, e->slot);
	struct weave_file *holder;

	if (e->dead || e->sealed || pgoff < first)
		return NULL;
	holder = weave_lock_excl_holder(reg, e->hnode.key);
	if (!holder || holder->inode != rw->inode)
		return NULL;
	if (e->writer != holder)
		weave_grant_begin(holder, e);
	return weave_store_page(reg, e, e->s->size, pgoff - first);
}

/* Pages fault-around maps with one call (a page table lock each). */
#define WEAVE_RW_BATCH	32

/*
 * Map the entry's other pages too, from the faulting one to the end of
 * the value or of the vma: the holder is about to write them, and one
 * fault then covers a lock period, not one per page.
 */
static void weave_rw_fault_around(struct vm_fault *vmf, struct weave_rwmap *rw)
{
	struct vm_area_struct *vma = vmf->vma;
	struct weave_registry *reg = rw->reg;
	struct weave_entry *e = rw->e;
	unsigned long first = weave_span_pgoff(reg, e->slot);
	unsigned long addr = (vmf->address & PAGE_MASK) + PAGE_SIZE;
	pgoff_t pgoff = vmf->pgoff + 1;
	struct page *pages[WEAVE_RW_BATCH];
	unsigned long n, left;

	while (addr < vma->vm_end && !fatal_signal_pending(current)) {
		for (n = 0; n < WEAVE_RW_BATCH &&
		     addr + (n << PAGE_SHIFT) < vma->vm_end; n++) {
			pages[n] = weave_store_page(reg, e, e->s->size,
						    pgoff + n - first);
			if (!pages[n])
				break;
		}
		left = n;
		/* A page mapped already, or no memory: left to faults. */
		if (!n || vm_insert_pages(vma, addr, pages, &left) || left ||
		    n < WEAVE_RW_BATCH)
			return;
		addr += n << PAGE_SHIFT;
		pgoff += n;
	}
}

static vm_fault_t weave_rw_fault(struct vm_fault *vmf)
{
	struct weave_rwmap *rw = vmf->vma->vm_private_data;
	struct weave_registry *reg = rw->reg;
	vm_fault_t ret;

	mutex_lock(&reg->lock);
	ret = weave_vm_insert(vmf, weave_rw_page(rw, vmf->pgoff));
	if (ret == VM_FAULT_NOPAGE)
		weave_rw_fault_around(vmf, rw);
	mutex_unlock(&reg->lock);
	return ret;
}

static void weave_rw_vm_open(struct vm_area_struct *vma)
{
	struct weave_rwmap *rw = vma->vm_private_data;

	atomic_inc(&rw->reg->nr_views);
}

static void weave_rw_vm_close(struct vm_area_struct *vma)
{
	struct weave_rwmap *rw = vma->vm_private_data;

	atomic_dec(&rw->reg->nr_views);
}

static const struct vm_operations_struct weave_rw_vm_ops = {
	.open	= weave_rw_vm_open,
	.close	= weave_rw_vm_close,
	.fault	= weave_rw_fault,
};

/* Also for a mapping that failed half way: any field may be NULL. */
static int weave_rw_release(struct inode *inode, struct file *file)
{
	struct weave_rwmap *rw = file->private_data;

	if (rw->e)
		weave_entry_put(rw->e);
	if (rw->inode)
		iput(rw->inode);
	if (rw->reg)
		weave_registry_put(rw->reg);
	kfree(rw);
	return 0;
}

/* Nothing but mappings: no read, write, ioctl or mmap of its own. */
static const struct file_operations weave_rw_fops = {
	.owner		= THIS_MODULE,
	.release	= weave_rw_release,
	.llseek		= noop_llseek,
};

/**
 * weave_rw_mmap() - map an entry's view writable
 * @file: an attached, writable file (mmap() checked that)
 * @vma: the new mapping, with VM_WRITE, at a view's offset
 *
 * The mapping needs the lock at mmap() time; the grant starts at its
 * first fault.
 *
 * Return: 0, or -EINVAL (not a view), -ENXIO (no entry), -EPERM (the
 * file does not hold the key's lock exclusively, or the entry is sealed)
 * or -ENOMEM.
 */
int weave_rw_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct weave_registry *reg = weave_file_reg(file);
	struct weave_file *wf = file->private_data;
	u32 slot = weave_pgoff_slot(reg, vma->vm_pgoff, vma_pages(vma));
	struct weave_rwmap *rw;
	struct weave_entry *e;
	struct file *rwf;

	if (!slot)
		return -EINVAL;
	rw = kzalloc(sizeof(*rw), GFP_KERNEL_ACCOUNT);
	if (!rw)
		return -ENOMEM;
	rwf = anon_inode_getfile("[weave-rw]", &weave_rw_fops, rw, O_RDWR);
	if (IS_ERR(rwf)) {
		kfree(rw);
		return PTR_ERR(rwf);
	}

	mutex_lock(&reg->lock);
	e = weave_rw_entry(reg, wf, slot);
	mutex_unlock(&reg->lock);
	if (IS_ERR(e)) {
		fput(rwf);
		return PTR_ERR(e);
	}
	rw->e = e;
	kref_get(&reg->kref);
	rw->reg = reg;
	ihold(wf->inode);
	rw->inode = wf->inode;
	/* Before the vma is linked into a mapping's tree, as views are. */
	rwf->f_mapping = wf->inode->i_mapping;

	vma_set_file(vma, rwf);
	fput(rwf);
	vm_flags_clear(vma, VM_MAYEXEC);
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = rw;
	vma->vm_ops = &weave_rw_vm_ops;
	atomic_inc(&reg->nr_views);
	return 0;
}

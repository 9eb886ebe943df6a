-- the writer lets go of the BI copy it attached as bi_copy
detach bi_copy

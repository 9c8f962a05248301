# fencing/ — fence agent(s) in the fence-agents protocol.
PROGRAMS += fence_havm
fence_havm_SRCS := fencing/main.c
fence_havm_LIBS := common
